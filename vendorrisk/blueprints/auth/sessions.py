"""The sessions page: where the user is logged in, and ending any of those logins."""

from __future__ import annotations

import re

from flask import current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from vendorrisk import clock
from vendorrisk.access import READERS, access
from vendorrisk.blueprints.auth import bp
from vendorrisk.blueprints.auth.account_forms import EndSessionsForm
from vendorrisk.extensions import limiter
from vendorrisk.services.users import sessions

_BROWSERS = (
    ("Edg/", "Edge"),
    ("Firefox/", "Firefox"),
    ("Chrome/", "Chrome"),
    ("Safari/", "Safari"),
)
_SYSTEMS = (
    ("Windows", "Windows"),
    ("iPhone", "iOS"),
    ("iPad", "iPadOS"),
    ("Android", "Android"),
    ("Mac OS X", "macOS"),
    ("Linux", "Linux"),
)


def browser_label(user_agent: str | None) -> str:
    """ "Chrome on Windows" from a User-Agent string, or the start of the string itself."""
    agent = user_agent or ""
    browser = next((name for mark, name in _BROWSERS if mark in agent), None)
    system = next((name for mark, name in _SYSTEMS if mark in agent), None)
    if browser and system:
        return _("%(browser)s on %(system)s", browser=browser, system=system)
    return re.sub(r"\s+", " ", agent)[:60] or "—"


def _idle() -> int:
    return current_app.config["SESSION_IDLE_MINUTES"]


def _end(form: EndSessionsForm) -> None:
    user = current_user._get_current_object()
    if form.end.data == "others":
        ended = sessions.end_others(user)
        flash(ngettext("%(num)d other session ended.", "%(num)d other sessions ended.", ended))
    elif sessions.end_one(user, int(form.end.data), clock.now(), _idle()):
        flash(_("The session has been ended: that browser is logged out."), "success")
    else:
        flash(_("That session had already ended."), "info")


@bp.route("/sessions", methods=["GET", "POST"])
@access(write=READERS)
@limiter.limit("10 per minute", methods=["POST"])
def sessions_page():
    form = EndSessionsForm()
    if form.validate_on_submit():
        _end(form)
        return redirect(url_for(".sessions_page"))
    user = current_user._get_current_object()
    rows = sessions.live_sessions(user, clock.now(), _idle())
    return render_template(
        "auth/sessions.html",
        form=form,
        rows=rows,
        current=[row.id for row in rows if sessions.is_current(row, user)],
        browser_label=browser_label,
        idle_minutes=_idle(),
    ), 400 if form.errors else 200

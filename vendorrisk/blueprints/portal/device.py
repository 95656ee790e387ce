"""The portal's device cookie: which contacts' links this browser has opened before.

A link copied from a proxy's log must not open the answers in another browser once it has been
used (`services.assessments.portal.may_open`). The browser that exchanged it keeps a long-lived
cookie naming those invitations, signed with the secret key, for this host alone and only
over HTTPS in production (`__Host-`), never to scripts: with it, the contact comes back from
the same mail for as long as the link lives. It proves nothing beyond "this browser opened that
link before": the answers stay behind a server-side sitting.
"""

from __future__ import annotations

from datetime import timedelta

from flask import current_app, request
from itsdangerous import BadSignature, URLSafeTimedSerializer

#: How long a browser stays bound (longer than any link lives, and a year's re-assessment).
KEEP = timedelta(days=180)
#: Invitations remembered per browser (the newest kept).
MOST = 30
_SALT = "vendorrisk.portal.device"


def _name() -> str:
    secure = current_app.config["SESSION_COOKIE_SECURE"]
    return "__Host-portal-device" if secure else "portal-device"


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt=_SALT)


def bound_ids() -> list[int]:
    """The invitations this browser opened before (none for a missing or forged cookie)."""
    raw = request.cookies.get(_name(), "")
    if not raw or len(raw) > 2000:
        return []
    try:
        ids = _serializer().loads(raw, max_age=int(KEEP.total_seconds()))
    except BadSignature:
        return []
    return [i for i in ids if isinstance(i, int)][-MOST:] if isinstance(ids, list) else []


def bind(response, invitation_id: int):
    """Remember on the response that this browser opened this invitation's link."""
    ids = [i for i in bound_ids() if i != invitation_id][-(MOST - 1) :] + [invitation_id]
    response.set_cookie(
        _name(),
        _serializer().dumps(ids),
        max_age=int(KEEP.total_seconds()),
        path="/",  # __Host-: this host alone, no sibling can set it; that needs the whole path
        secure=current_app.config["SESSION_COOKIE_SECURE"],
        httponly=True,
        samesite="Lax",  # sent when the mail's link is followed, so its page knows the browser
    )
    return response

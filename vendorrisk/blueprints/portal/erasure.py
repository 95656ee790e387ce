"""The erasure certificate (消去証明書): a link that asks only for the certificate of erasure of the
data we entrusted to a supplier whose business with us ends (services/register/offboarding.py)."""

from flask import abort, current_app, g, render_template, request
from flask_babel import gettext as _

from vendorrisk import clock
from vendorrisk.access import public
from vendorrisk.blueprints.common.unit_of_work import fails_to
from vendorrisk.blueprints.portal import bp
from vendorrisk.blueprints.portal.routes import rate_limit
from vendorrisk.extensions import limiter
from vendorrisk.i18n.later import company_name
from vendorrisk.services import audit, files
from vendorrisk.services.register.offboarding import (
    OffboardingError,
    erasure_closed_reason,
    find_erasure_request,
    receive_certificate,
)
from vendorrisk.vocab import LOCALES


def _erasure_or_404(token: str):
    found = find_erasure_request(token)
    lang = request.args.get("lang") if request.args.get("lang") in LOCALES else None
    if found is None:
        g.portal_locale = lang
        abort(404)
    g.portal_locale = lang or found.locale
    return found


def _erasure_page(found, status: int = 200, error: str | None = None):
    supplier = found.offboarding.supplier
    reason = erasure_closed_reason(found, clock.now())
    if reason:
        page = render_template("portal/erasure_gone.html", reason=reason, owner=supplier.owner)
        return page, 410
    return render_template(
        "portal/erasure.html",
        erasure=found,
        supplier=supplier,
        error=error,
        max_size=files.human_size(current_app.config["MAX_UPLOAD_BYTES"]),
    ), status


def _refused(error: Exception, token: str):
    """The form again, saying why (nothing was kept: the unit of work rolled back)."""
    return _erasure_page(_erasure_or_404(token), 422, error=str(error))


@bp.route("/erasure/<token>", methods=["GET"])
@public
@limiter.limit(rate_limit)
def erasure_landing(token: str):
    """The certificate's form; showing it (to a person or a mail scanner) changes nothing."""
    return _erasure_page(_erasure_or_404(token))


@bp.route("/erasure/<token>", methods=["POST"])
@public
@limiter.limit(rate_limit)
@fails_to(render=_refused)
def erasure_upload(token: str):
    found = _erasure_or_404(token)
    if erasure_closed_reason(found, clock.now()):
        return _erasure_page(found)
    audit.set_actor(audit.Actor(type="contact", label=found.email, ip=request.remote_addr))
    upload = request.files.get("file")
    if not upload or not upload.filename:
        raise OffboardingError(_("Choose the file to upload."))
    config = current_app.config
    stored = files.store(
        upload.stream, upload.filename, config["UPLOAD_DIR"], config["MAX_UPLOAD_BYTES"]
    )
    receive_certificate(found, stored, clock.now())
    return render_template("portal/erasure_done.html", company=company_name(g.portal_locale))

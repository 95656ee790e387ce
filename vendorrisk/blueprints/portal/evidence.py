"""Renewed evidence: a link that asks only for the renewal of one certification or policy."""

from flask import abort, current_app, g, render_template, request
from flask_babel import gettext as _

from vendorrisk import clock
from vendorrisk.access import public
from vendorrisk.blueprints.common.unit_of_work import fails_to
from vendorrisk.blueprints.portal import bp
from vendorrisk.blueprints.portal.routes import rate_limit
from vendorrisk.extensions import limiter
from vendorrisk.i18n.later import attestation_name, company_name
from vendorrisk.services import audit, files
from vendorrisk.services.register.evidence_requests import (
    EvidenceError,
    evidence_closed_reason,
    find_evidence_request,
    parse_renewal,
    receive_evidence,
)
from vendorrisk.vocab import LOCALES


def _evidence_or_404(token: str):
    found = find_evidence_request(token)
    lang = request.args.get("lang") if request.args.get("lang") in LOCALES else None
    if found is None:
        g.portal_locale = lang
        abort(404)
    g.portal_locale = lang or found.locale
    return found


def _evidence_page(found, status: int = 200, error: str | None = None):
    attestation = found.attestation
    supplier = attestation.supplier
    reason = evidence_closed_reason(found, clock.now())
    if reason:
        page = render_template("portal/evidence_gone.html", reason=reason, owner=supplier.owner)
        return page, 410
    return render_template(
        "portal/evidence.html",
        evidence=found,
        attestation=attestation,
        attestation_label=attestation_name(attestation, g.portal_locale),
        supplier=supplier,
        error=error,
        given=request.form if error else {},
        max_size=files.human_size(current_app.config["MAX_UPLOAD_BYTES"]),
    ), status


def _refused(error: Exception, token: str):
    """The form again, saying why (nothing was kept: the unit of work rolled back)."""
    return _evidence_page(_evidence_or_404(token), 422, error=str(error))


@bp.route("/e/<token>", methods=["GET"])
@public
@limiter.limit(rate_limit)
def evidence_landing(token: str):
    """The renewed-evidence form; showing it (to a person or a mail scanner) changes nothing."""
    return _evidence_page(_evidence_or_404(token))


@bp.route("/e/<token>", methods=["POST"])
@public
@limiter.limit(rate_limit)
@fails_to(render=_refused)
def evidence_upload(token: str):
    found = _evidence_or_404(token)
    if evidence_closed_reason(found, clock.now()):
        return _evidence_page(found)
    audit.set_actor(audit.Actor(type="contact", label=found.email, ip=request.remote_addr))
    upload = request.files.get("file")
    renewal = parse_renewal(request.form, found.attestation, clock.today())
    if not upload or not upload.filename:
        raise EvidenceError(_("Choose the file to upload."))
    config = current_app.config
    stored = files.store(
        upload.stream, upload.filename, config["UPLOAD_DIR"], config["MAX_UPLOAD_BYTES"]
    )
    receive_evidence(found, stored, renewal, clock.now())
    return render_template("portal/evidence_done.html", company=company_name(g.portal_locale))

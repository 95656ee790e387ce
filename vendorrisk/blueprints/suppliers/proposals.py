"""Proposed register changes: the reviewer sees the register's value beside what the supplier
stated (and its evidence file) and accepts or rejects each; nothing changes until then."""

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import HiddenField, TextAreaField
from wtforms.validators import Length

from vendorrisk import clock
from vendorrisk.access import READERS, REGISTER_EDITORS, access
from vendorrisk.blueprints.common.forms import flash_errors
from vendorrisk.blueprints.common.unit_of_work import fails_to
from vendorrisk.blueprints.suppliers import bp
from vendorrisk.extensions import db
from vendorrisk.i18n import local_date, yen
from vendorrisk.i18n.labels import label, level_name
from vendorrisk.models import AttestationKind, Supplier
from vendorrisk.models.proposal import SCS, AttestationProposal
from vendorrisk.services.register import proposals


class DecisionForm(FlaskForm):
    """Accept or reject one proposal; `back` says which list to return to."""

    back = HiddenField(default="supplier")
    reason = TextAreaField(_l("Reason for rejecting"), validators=[Length(max=2000)])


@bp.app_template_global()
def pending_proposals(supplier_id: int) -> list[AttestationProposal]:
    """The supplier's proposals waiting for a decision (for its page)."""
    return proposals.pending(supplier_id)


@bp.app_template_global()
def proposal_view(proposal: AttestationProposal) -> dict:
    """What the proposal screen shows of one proposal."""
    rows = proposals.rows(proposal)
    kind = proposal.kind
    return {
        "kind": _("SCS evaluation") if kind == SCS else label(AttestationKind(kind)),
        "rows": [(r.label, _shown(r.field, r.current), _shown(r.field, r.proposed)) for r in rows],
        "changed": any(r.current is not None for r in rows),
        "problems": proposals.problems(proposal, clock.today()),
        "form": DecisionForm(prefix=f"p{proposal.id}"),
    }


def _shown(field: str, value) -> str:
    """A register value as staff read it."""
    if value is None or value == "":
        return "—"
    if field in ("issued_on", "expires_on"):
        return local_date(proposals.as_date(value)) or str(value)
    if field == "level":
        return level_name(value)
    if field == "coverage_limit_jpy":
        return yen(int(value))
    return str(value)


@bp.route("/proposals")
@access(read=READERS, write=REGISTER_EDITORS)
def all_proposals():
    """Every proposal waiting for a decision, oldest first, for procurement."""
    return render_template("suppliers/proposals.html", pending=proposals.pending(), supplier=None)


@bp.route("/<int:supplier_id>/proposals")
@access(read=READERS, write=REGISTER_EDITORS)
def supplier_proposals(supplier_id: int):
    supplier = db.get_or_404(Supplier, supplier_id)
    return render_template(
        "suppliers/proposals.html",
        supplier=supplier,
        pending=proposals.pending(supplier_id),
        decided=proposals.decided(supplier_id),
    )


def _proposal(supplier_id: int, proposal_id: int) -> tuple[AttestationProposal, DecisionForm]:
    proposal = db.get_or_404(AttestationProposal, proposal_id)
    if proposal.supplier_id != supplier_id:
        abort(404)
    return proposal, DecisionForm(prefix=f"p{proposal_id}")


def _back(form: DecisionForm, supplier_id: int):
    if form.back.data == "all":
        return redirect(url_for(".all_proposals"))
    if form.back.data == "detail":
        return redirect(url_for(".detail", supplier_id=supplier_id, _anchor="proposals"))
    return redirect(url_for(".supplier_proposals", supplier_id=supplier_id))


@bp.route("/<int:supplier_id>/proposals/<int:proposal_id>/accept", methods=["POST"])
@access(write=REGISTER_EDITORS)
@fails_to(".supplier_proposals")
def accept_proposal(supplier_id: int, proposal_id: int):
    proposal, form = _proposal(supplier_id, proposal_id)
    if form.validate_on_submit():
        proposals.accept(proposal, current_user, clock.now())
        flash(_("The proposal has been accepted and the register updated."), "success")
    else:
        flash_errors(form)
    return _back(form, supplier_id)


@bp.route("/<int:supplier_id>/proposals/<int:proposal_id>/reject", methods=["POST"])
@access(write=REGISTER_EDITORS)
@fails_to(".supplier_proposals")
def reject_proposal(supplier_id: int, proposal_id: int):
    proposal, form = _proposal(supplier_id, proposal_id)
    if form.validate_on_submit():
        proposals.reject(proposal, form.reason.data or "", current_user, clock.now())
        flash(_("The proposal has been rejected; the register is unchanged."), "success")
    else:
        flash_errors(form)
    return _back(form, supplier_id)

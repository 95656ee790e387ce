"""Offboarding (取引終了手続き) on the supplier's page: start the checklist, record its steps, ask
for the erasure certificate by link, approve an exception (CISO, admin), stop it, and download
the record. The page's section (templates/suppliers/_offboarding.html) reads `offboarding_of`.

A refused action comes back to the section with its message, and what was typed in the form
(not a file) is filled in again: nothing is lost.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import abort, current_app, flash, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from werkzeug.datastructures import MultiDict
from wtforms import SelectField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length

from vendorrisk import clock
from vendorrisk.access import OFFBOARDING_APPROVERS, READERS, REGISTER_EDITORS, access
from vendorrisk.blueprints.common import transfer
from vendorrisk.blueprints.common.transfer import send_export
from vendorrisk.blueprints.common.unit_of_work import fails_to
from vendorrisk.blueprints.suppliers import bp
from vendorrisk.extensions import db
from vendorrisk.i18n import choices
from vendorrisk.i18n.labels import OFFBOARDING_STEP_LABELS
from vendorrisk.models import (
    OFFBOARDING_STEPS,
    Contact,
    ErasureRequest,
    Offboarding,
    OffboardingReason,
    OffboardingStep,
    Supplier,
)
from vendorrisk.services import files
from vendorrisk.services.register import offboarding as service
from vendorrisk.services.register.offboarding import OffboardingError, StatusFollowsChecklist
from vendorrisk.services.reporting import exports

#: session: the form a refused action posted, to fill in again on the supplier's page.
KEPT = "offboarding_kept"
#: Posted fields never kept (they are issued afresh with each page).
NOT_KEPT = frozenset({"csrf_token", "idempotency_key"})
#: Typed text kept for a refused form, at most (the session is a cookie of about 4 KB).
KEEP_AT_MOST = 600


class StartForm(FlaskForm):
    reason = SelectField(_l("Why the supplier leaves"), choices=choices(OffboardingReason))
    note = TextAreaField(
        _l("Note"),
        validators=[Length(max=2000)],
        description=_l("For example the contract that ends and the day the work stops."),
    )
    submit = SubmitField(_l("Start offboarding"))


class StepForm(FlaskForm):
    """One step recorded as done; each step's form has the step's key as its prefix."""

    note = TextAreaField(_l("Note"), validators=[Length(max=2000)])
    certificate = FileField(_l("Erasure certificate (PDF, PNG, JPEG, XLSX, DOCX, CSV or TXT)"))
    submit = SubmitField(_l("Record as done"))


class AskForm(FlaskForm):
    submit = SubmitField(_l("Ask the supplier for the certificate by link"))


class ExceptionForm(FlaskForm):
    reason = TextAreaField(
        _l("Reason for offboarding with steps still open"),
        validators=[
            DataRequired(_l("Give the reason for offboarding with steps still open.")),
            Length(max=2000),
        ],
    )
    submit = SubmitField(_l("Approve the exception and offboard"))


class StopForm(FlaskForm):
    reason = TextAreaField(
        _l("Reason for stopping"),
        validators=[
            DataRequired(_l("Give the reason for stopping the offboarding.")),
            Length(max=2000),
        ],
    )
    submit = SubmitField(_l("Stop offboarding"))


# -- the section on the supplier's page ---------------------------------------------------------


@dataclass
class StepRow:
    key: str
    name: str
    hint: str
    step: OffboardingStep
    #: The form recording it as done (only for an open checklist's steps).
    form: StepForm | None = None


@dataclass
class Panel:
    """What the offboarding section shows of one supplier."""

    supplier: Supplier
    #: The open checklist, if any.
    current: Offboarding | None
    #: Every checklist, newest first (closed ones are the record).
    records: list[Offboarding]
    steps: list[StepRow] = field(default_factory=list)
    request: ErasureRequest | None = None
    recipient: Contact | None = None
    live_links: int = 0
    open_findings: int = 0
    forms: dict[str, FlaskForm] = field(default_factory=dict)

    @property
    def closed(self) -> list[Offboarding]:
        return [o for o in self.records if not o.is_open]

    def rows(self, offboarding: Offboarding) -> list[StepRow]:
        """A closed checklist's steps as its record shows them."""
        return [
            StepRow(s.key, *map(str, OFFBOARDING_STEP_LABELS[s.key]), s) for s in offboarding.steps
        ]


def _kept_for(supplier_id: int) -> MultiDict | None:
    """What a refused form of this supplier's section had typed (read once)."""
    kept = session.get(KEPT)
    if not kept or kept.get("supplier_id") != supplier_id:
        return None
    session.pop(KEPT)
    return MultiDict(kept["form"])


def _row(step: OffboardingStep, form: StepForm | None = None) -> StepRow:
    name, hint = OFFBOARDING_STEP_LABELS[step.key]
    return StepRow(step.key, str(name), str(hint), step, form)


def _step_rows(current: Offboarding, kept: MultiDict | None) -> list[StepRow]:
    return [_row(step, StepForm(formdata=kept, prefix=step.key)) for step in current.steps]


@bp.app_template_global()
def offboarding_of(supplier: Supplier) -> Panel:
    """The offboarding section of a supplier's page: its checklist, forms and record."""
    records = service.records_of(supplier.id)
    current = next((o for o in records if o.is_open), None)
    kept = _kept_for(supplier.id)
    panel = Panel(supplier, current, records)
    panel.forms = {
        "start": StartForm(formdata=kept, prefix="start"),
        "ask": AskForm(formdata=None),
        "exception": ExceptionForm(formdata=kept, prefix="exception"),
        "stop": StopForm(formdata=kept, prefix="stop"),
    }
    if current is not None:
        panel.steps = _step_rows(current, kept)
        panel.request = service.latest_request(current)
        panel.recipient = service.recipient(supplier)
        panel.live_links = service.live_links(supplier.id, clock.now())
        panel.open_findings = service.open_findings(supplier.id)
    return panel


# -- the actions --------------------------------------------------------------------------------


def _back(supplier_id: int):
    return redirect(url_for("suppliers.detail", supplier_id=supplier_id, _anchor="offboarding"))


def _kept(error: Exception, supplier_id: int, **_args):
    """A refused action: its message, the section again, and what was typed filled in."""
    typed = {k: v for k, v in request.form.items() if k not in NOT_KEPT and v}
    if sum(len(v) for v in typed.values()) <= KEEP_AT_MOST:
        session[KEPT] = {"supplier_id": supplier_id, "form": typed}
    flash(str(error), "error")
    return _back(supplier_id)


def _valid(form: FlaskForm) -> FlaskForm:
    """The form when it validates; otherwise its errors are refused as a service would."""
    if not form.validate_on_submit():
        messages = [str(e) for errors in form.errors.values() for e in errors]
        raise OffboardingError(" ".join(messages) or _("The form could not be read."))
    return form


def _supplier(supplier_id: int) -> Supplier:
    return db.get_or_404(Supplier, supplier_id)


def _open_checklist(supplier_id: int) -> Offboarding:
    _supplier(supplier_id)
    found = service.open_offboarding(supplier_id)
    if found is None:
        raise OffboardingError(_("This supplier has no offboarding in progress."))
    return found


@bp.route("/<int:supplier_id>/offboarding/start", methods=["POST"])
@access(write=REGISTER_EDITORS)
@fails_to(render=_kept)
def offboarding_start(supplier_id: int):
    """Open the checklist: the supplier is `offboarding` (still in the roll-up) until it closes."""
    supplier = _supplier(supplier_id)
    form = _valid(StartForm(prefix="start"))
    service.start(supplier, form.reason.data, form.note.data or "", current_user, clock.now())
    flash(
        _("Offboarding has started. The supplier stays in the roll-up until it is done."), "success"
    )
    return _back(supplier_id)


@bp.route("/<int:supplier_id>/offboarding/step", methods=["POST"])
@access(write=REGISTER_EDITORS)
@fails_to(render=_kept)
def offboarding_step(supplier_id: int):
    """Record one step as done (the erasure certificate's with its file, if staff have it)."""
    checklist = _open_checklist(supplier_id)
    key = request.form.get("step", "")
    if key not in OFFBOARDING_STEPS:
        raise OffboardingError(_("There is no such step."))
    form = _valid(StepForm(prefix=key))
    upload = form.certificate.data if key == "erasure_certificate" else None
    stored = None
    if upload and getattr(upload, "filename", None):
        config = current_app.config
        stored = files.store(upload.stream, upload.filename, config["UPLOAD_DIR"],
                             config["MAX_UPLOAD_BYTES"], current_user.id)  # fmt: skip
    service.mark_done(checklist, key, form.note.data or "", current_user, clock.now(), stored)
    if checklist.is_open:
        flash(_("The step is recorded as done."), "success")
    else:
        flash(
            _("Every step is done: the supplier is offboarded and leaves the roll-up."), "success"
        )
    return _back(supplier_id)


@bp.route("/<int:supplier_id>/offboarding/erasure-request", methods=["POST"])
@access(write=REGISTER_EDITORS)
@fails_to(render=_kept)
def offboarding_ask(supplier_id: int):
    """Mail the supplier's contact a link that only takes the erasure certificate."""
    checklist = _open_checklist(supplier_id)
    _valid(AskForm())
    sent = service.ask_for_certificate(checklist, current_user, clock.now())
    flash(_("The link has been sent to %(email)s.", email=sent.email), "success")
    return _back(supplier_id)


@bp.route("/<int:supplier_id>/offboarding/exception", methods=["POST"])
@access(write=OFFBOARDING_APPROVERS)
@fails_to(render=_kept)
def offboarding_exception(supplier_id: int):
    """Offboard with steps still open: a CISO's or administrator's decision, with its reason."""
    checklist = _open_checklist(supplier_id)
    form = _valid(ExceptionForm(prefix="exception"))
    service.approve_exception(checklist, form.reason.data, current_user, clock.now())
    flash(_("The exception is approved: the supplier is offboarded."), "success")
    return _back(supplier_id)


@bp.route("/<int:supplier_id>/offboarding/stop", methods=["POST"])
@access(write=REGISTER_EDITORS)
@fails_to(render=_kept)
def offboarding_stop(supplier_id: int):
    """Stop the checklist (the contract was renewed after all): the supplier is active again."""
    checklist = _open_checklist(supplier_id)
    form = _valid(StopForm(prefix="stop"))
    service.cancel(checklist, form.reason.data, current_user, clock.now())
    flash(_("Offboarding has been stopped; the supplier is active again."), "success")
    return _back(supplier_id)


@bp.route("/<int:supplier_id>/offboarding/record.<any(csv, xlsx):fmt>")
@access(read=READERS)
@transfer.download
def offboarding_record(supplier_id: int, fmt: str):
    """The supplier's offboarding record: every checklist, one row a step."""
    supplier = _supplier(supplier_id)
    frame = service.record_frame(supplier.id)
    if frame.empty:
        abort(404)

    def write(buffer) -> int:
        exports.write(frame, buffer, fmt)
        return len(frame)

    return send_export(f"offboarding-{supplier.id}", fmt, write)


@bp.app_errorhandler(StatusFollowsChecklist)
def status_follows_checklist(error: StatusFollowsChecklist):
    """The supplier form asked for a status only the checklist sets: nothing was saved (the unit
    of work rolled back); the supplier's offboarding section says why."""
    flash(str(error), "error")
    if error.supplier_id is None:
        return redirect(url_for("suppliers.new"))
    return _back(error.supplier_id)

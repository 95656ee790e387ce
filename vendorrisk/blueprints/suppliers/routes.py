from dataclasses import replace

from flask import abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user

from vendorrisk import clock
from vendorrisk.access import READERS, REGISTER_EDITORS, TIER_EDITORS, access
from vendorrisk.blueprints.common import transfer
from vendorrisk.blueprints.common.transfer import send_export, store_upload
from vendorrisk.blueprints.common.unit_of_work import fails_to
from vendorrisk.blueprints.suppliers import bp
from vendorrisk.blueprints.suppliers.forms import (
    AttestationForm,
    ChainReviewForm,
    ContactForm,
    ContractForm,
    DeleteForm,
    FilterForm,
    RequiredLevelForm,
    SupplierForm,
    TierForm,
)
from vendorrisk.extensions import db
from vendorrisk.models import Attestation, AttestationKind, Contact, Contract, StoredFile, Supplier
from vendorrisk.scoring.tiers import required_level
from vendorrisk.services import files
from vendorrisk.services.register import chain, d9, scs, suppliers
from vendorrisk.services.reporting import exports
from vendorrisk.services.review import tiers
from vendorrisk.services.users import units


def _supplier(supplier_id: int) -> Supplier:
    return db.get_or_404(Supplier, supplier_id)


def _child(model, supplier_id: int, child_id: int):
    obj = db.get_or_404(model, child_id)
    if obj.supplier_id != supplier_id:
        abort(404)
    return obj


def _save_child(form, obj, file_field: str, add) -> bool:
    """Save a contract or attestation with its file; False (nothing saved) if the file is bad."""
    stored_ok, stored = store_upload(form[file_field])
    if not stored_ok:
        return False
    if obj is None:
        obj = add(form.model_data())
    else:
        suppliers.apply(obj, form.model_data())
    suppliers.replace_file(obj, file_field, stored)
    return True


@bp.route("/")
@access(read=READERS)
def index():
    today = clock.today()
    form = FilterForm(request.args, owners=suppliers.owners())
    criteria = form.criteria()
    page = d9.list_rows(
        suppliers.search(criteria, today),
        today,
        page=request.args.get("page", 1, type=int),
        per_page=current_app.config["PAGE_SIZE"],
        counted=replace(criteria, sort=""),  # the count is the same in every order
    )
    share_url = url_for(".index", _external=True, **form.query_args())
    return render_template(
        "suppliers/index.html", form=form, page=page, today=today, share_url=share_url
    )


@bp.route("/new", methods=["GET", "POST"])
@access(write=REGISTER_EDITORS)
@fails_to(".new")  # a chain changed by someone else since the form checked the parent
def new():
    form = SupplierForm(
        owners=suppliers.owners(),
        units=units.choices_for(current_user),
        owner_id=current_user.id,
        unit_id=units.default_for(current_user),
    )
    if form.validate_on_submit():
        supplier = suppliers.create_supplier(form.model_data())
        tiers.apply_tier_rules(supplier, tiers.tier_rules(), clock.now())
        flash(_("The supplier has been registered."), "success")
        return redirect(url_for(".detail", supplier_id=supplier.id))
    return render_template("suppliers/form.html", form=form, supplier=None)


@bp.route("/<int:supplier_id>")
@access(read=READERS)
def detail(supplier_id: int):
    supplier = suppliers.get_full(supplier_id) or abort(404)
    today = clock.today()
    scheme = scs.scheme_settings()
    status = d9.status_of(supplier, today, scheme)
    contract = suppliers.active_contract(supplier, today)
    return render_template(
        "suppliers/detail.html",
        supplier=supplier,
        today=today,
        active_contract=contract,
        contract_level_missed=scs.contract_level_missed(contract, status.held, today, scheme),
        history=suppliers.history(supplier_id),
        kinds=AttestationKind,
        delete_form=DeleteForm(),
        assessments=suppliers.assessments_of(supplier_id),
        risk=tiers.risk_view(supplier, today),
        tier_history=tiers.tier_history(supplier_id),
        tier_form=TierForm(tier=supplier.tier),
        level_form=RequiredLevelForm(),
        level_history=scs.level_history(supplier_id),
        declaration_check_due=scs.declaration_check_due,
        d9=status,
        chain=chain.chain_view(supplier),
        chain_form=ChainReviewForm(),
    )


@bp.route("/<int:supplier_id>/edit", methods=["GET", "POST"])
@access(write=REGISTER_EDITORS)
@fails_to(".edit")  # a chain changed by someone else since the form checked the parent
def edit(supplier_id: int):
    supplier = _supplier(supplier_id)
    form = SupplierForm(
        obj=supplier,
        owners=suppliers.owners(keep_id=supplier.owner_id),
        units=units.choices_for(current_user, keep_id=supplier.unit_id),
        supplier_id=supplier.id,
    )
    if form.validate_on_submit():
        suppliers.apply(supplier, form.model_data())
        tiers.apply_tier_rules(supplier, tiers.tier_rules(), clock.now())
        flash(_("The changes have been saved."), "success")
        return redirect(url_for(".detail", supplier_id=supplier.id))
    return render_template("suppliers/form.html", form=form, supplier=supplier)


@bp.route("/<int:supplier_id>/delete", methods=["POST"])
@access(write=REGISTER_EDITORS)
def delete(supplier_id: int):
    supplier = _supplier(supplier_id)
    if DeleteForm().validate_on_submit():
        suppliers.delete(supplier)
        flash(_("The supplier has been deleted."), "success")
    return redirect(url_for(".index"))


@bp.route("/<int:supplier_id>/contacts/new", methods=["GET", "POST"])
@bp.route("/<int:supplier_id>/contacts/<int:contact_id>/edit", methods=["GET", "POST"])
@access(write=REGISTER_EDITORS)
def contact_form(supplier_id: int, contact_id: int | None = None):
    supplier = _supplier(supplier_id)
    contact = _child(Contact, supplier_id, contact_id) if contact_id else None
    form = ContactForm(obj=contact, supplier_id=supplier_id, contact_id=contact_id)
    if form.validate_on_submit():
        if contact is None:
            suppliers.add_contact(supplier, form.model_data())
        else:
            suppliers.update_contact(contact, form.model_data())
        flash(_("The contact has been saved."), "success")
        return redirect(url_for(".detail", supplier_id=supplier_id, _anchor="contacts"))
    return render_template(
        "suppliers/child_form.html", form=form, supplier=supplier, title=_("Contact"), obj=contact
    )


@bp.route("/<int:supplier_id>/contracts/new", methods=["GET", "POST"])
@bp.route("/<int:supplier_id>/contracts/<int:contract_id>/edit", methods=["GET", "POST"])
@access(write=REGISTER_EDITORS)
def contract_form(supplier_id: int, contract_id: int | None = None):
    supplier = _supplier(supplier_id)
    contract = _child(Contract, supplier_id, contract_id) if contract_id else None
    form = ContractForm(obj=contract)
    if form.validate_on_submit() and _save_child(
        form, contract, "document", lambda data: suppliers.add_contract(supplier, data)
    ):
        flash(_("The contract has been saved."), "success")
        return redirect(url_for(".detail", supplier_id=supplier_id, _anchor="contracts"))
    return render_template(
        "suppliers/child_form.html", form=form, supplier=supplier, title=_("Contract"), obj=contract
    )


@bp.route("/<int:supplier_id>/attestations/new", methods=["GET", "POST"])
@bp.route("/<int:supplier_id>/attestations/<int:attestation_id>/edit", methods=["GET", "POST"])
@access(write=REGISTER_EDITORS)
def attestation_form(supplier_id: int, attestation_id: int | None = None):
    supplier = _supplier(supplier_id)
    attestation = _child(Attestation, supplier_id, attestation_id) if attestation_id else None
    kind = request.args.get("kind") or None
    form = AttestationForm(obj=attestation, kind=kind, kind_fixed=bool(attestation or kind))
    if form.validate_on_submit() and _save_child(
        form, attestation, "evidence", lambda data: suppliers.add_attestation(supplier, data)
    ):
        flash(_("The certification or declaration has been saved."), "success")
        return redirect(url_for(".detail", supplier_id=supplier_id, _anchor="attestations"))
    return render_template(
        "suppliers/child_form.html",
        form=form,
        supplier=supplier,
        title=_("Certification or declaration"),
        obj=attestation,
    )


@bp.route("/<int:supplier_id>/attestations/<int:attestation_id>/confirm", methods=["POST"])
@access(write=REGISTER_EDITORS)
def confirm_declaration(supplier_id: int, attestation_id: int):
    """The owner checked IPA's list: the SECURITY ACTION declaration is still there today."""
    attestation = _child(Attestation, supplier_id, attestation_id)
    if attestation.kind is not AttestationKind.security_action:
        abort(404)
    if DeleteForm().validate_on_submit():
        attestation.confirmed_on = clock.today()
        flash(_("The declaration is recorded as still listed today."), "success")
    return redirect(url_for(".detail", supplier_id=supplier_id, _anchor="attestations"))


CHILD_MODELS = {"contacts": Contact, "contracts": Contract, "attestations": Attestation}


@bp.route(
    "/<int:supplier_id>/<any(contacts, contracts, attestations):kind>/<int:child_id>/delete",
    methods=["POST"],
)
@access(write=REGISTER_EDITORS)
def delete_child(supplier_id: int, kind: str, child_id: int):
    obj = _child(CHILD_MODELS[kind], supplier_id, child_id)
    if DeleteForm().validate_on_submit():
        suppliers.delete(obj)
        flash(_("Deleted."), "success")
    return redirect(url_for(".detail", supplier_id=supplier_id, _anchor=kind))


@bp.route("/files/<int:file_id>")
@access(read=READERS)
@transfer.download
def download(file_id: int):
    stored = db.get_or_404(StoredFile, file_id)
    path = files.path_of(stored, current_app.config["UPLOAD_DIR"])
    if not path.is_file():
        abort(404)
    return send_file(
        path, mimetype=stored.content_type, as_attachment=True, download_name=stored.original_name
    )


@bp.route("/<int:supplier_id>/tier", methods=["POST"])
@access(write=TIER_EDITORS)
def set_tier(supplier_id: int):
    supplier = _supplier(supplier_id)
    form = TierForm()
    if form.validate_on_submit():
        tiers.override_tier(supplier, form.tier.data, form.reason.data, current_user, clock.now())
        flash(_("The tier has been set by hand."), "success")
    else:
        flash(_("Give the reason for setting the tier by hand."), "error")
    return redirect(url_for(".detail", supplier_id=supplier_id, _anchor="risk"))


@bp.route("/<int:supplier_id>/tier/rules", methods=["POST"])
@access(write=TIER_EDITORS)
def tier_by_rules(supplier_id: int):
    supplier = _supplier(supplier_id)
    if DeleteForm().validate_on_submit():
        tiers.clear_override(supplier, current_user, clock.now())
        flash(_("The tier follows the rules again."), "success")
    return redirect(url_for(".detail", supplier_id=supplier_id, _anchor="risk"))


@bp.route("/<int:supplier_id>/level", methods=["POST"])
@access(write=TIER_EDITORS)
@fails_to(".detail", anchor="risk")
def raise_level(supplier_id: int):
    """Ask a higher SCS level than the rules (★3 → ★4), with the reason kept in its history."""
    supplier = _supplier(supplier_id)
    form = RequiredLevelForm()
    if form.validate_on_submit():
        by_rule = required_level(tiers.profile_of(supplier))[0]
        scs.raise_level(
            supplier, by_rule, form.level.data, form.reason.data, current_user, clock.now()
        )
        flash(_("The level asked of this supplier has been raised."), "success")
    elif form.level.errors:
        flash(_("Choose a level above the one the rules ask for."), "error")
    else:
        flash(_("Give the reason for asking a higher level."), "error")
    return redirect(url_for(".detail", supplier_id=supplier_id, _anchor="risk"))


@bp.route("/<int:supplier_id>/level/rules", methods=["POST"])
@access(write=TIER_EDITORS)
def level_by_rules(supplier_id: int):
    supplier = _supplier(supplier_id)
    if DeleteForm().validate_on_submit():
        by_rule, triggers = required_level(tiers.profile_of(supplier))
        if scs.hand_back(supplier, by_rule, triggers, current_user, clock.now()):
            flash(_("The rules decide the level asked again."), "success")
    return redirect(url_for(".detail", supplier_id=supplier_id, _anchor="risk"))


@bp.route("/export.<any(csv, xlsx):fmt>")
@access(read=READERS)
@transfer.download
def export(fmt: str):
    form = FilterForm(request.args, owners=suppliers.owners())
    df = exports.frame("suppliers", clock.today(), form.criteria())

    def write(buffer) -> int:
        exports.write(df, buffer, fmt)
        return len(df)

    return send_export("suppliers", fmt, write)


@bp.route("/<int:supplier_id>/chain/reviewed", methods=["POST"])
@access(write=REGISTER_EDITORS)
@fails_to(".detail", anchor="chain")
def chain_reviewed(supplier_id: int):
    """Procurement has looked at a supplier its parent reported (再委託先・系列企業)."""
    supplier = _supplier(supplier_id)
    form = ChainReviewForm()
    if form.validate_on_submit():
        chain.mark_reviewed(supplier, clock.now())
        flash(_("The supplier is recorded as reviewed."), "success")
    back = form.back_to.data or supplier_id
    return redirect(url_for(".detail", supplier_id=back, _anchor="chain"))

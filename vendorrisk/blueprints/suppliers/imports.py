"""The supplier import: upload a file, map its columns with a preview, import, see the counts.

The uploaded file waits on the server (outside the web root, under a random token bound to the
user and listed in their session) until the mapping is confirmed; it is deleted after the import
and otherwise expires.
"""

from __future__ import annotations

import io

from flask import (
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.exc import IntegrityError

from vendorrisk import clock
from vendorrisk.access import IMPORTERS, access
from vendorrisk.blueprints.common import unit_of_work
from vendorrisk.blueprints.common.transfer import download, send_download
from vendorrisk.blueprints.suppliers import bp
from vendorrisk.blueprints.suppliers.import_forms import MappingForm, UploadForm
from vendorrisk.services.register.imports import (
    columns,
    files,
    planning,
    preview,
    template,
    writing,
)
from vendorrisk.services.register.imports.files import kept_folder

#: The session's list of the user's kept uploads, and the counts of the last import.
TOKENS = "supplier_imports"
RESULT = "supplier_import_result"
#: Errors listed on the page at most.
MAX_SHOWN = 200


def _read(data: bytes, name: str) -> files.Table:
    max_rows = current_app.config.get("IMPORT_MAX_ROWS", files.MAX_ROWS)
    return files.read_table(data, name, current_app.config["MAX_UPLOAD_BYTES"], max_rows)


@bp.route("/import", methods=["GET", "POST"])
@access(write=IMPORTERS)
def import_upload():
    form = UploadForm()
    if form.validate_on_submit():
        upload = form.file.data
        data = upload.stream.read(current_app.config["MAX_UPLOAD_BYTES"] + 1)
        try:
            _read(data, upload.filename or "")
            token = files.stash(kept_folder(), data, upload.filename, current_user.id)
        except files.FileRefused as exc:
            form.file.errors = [*form.file.errors, str(exc)]
        else:
            session[TOKENS] = [*session.get(TOKENS, [])[-4:], token]
            return redirect(url_for(".import_mapping", token=token))
    return render_template("suppliers/import.html", form=form, columns=template.help_rows())


@bp.route("/import/<token>", methods=["GET", "POST"])
@access(write=IMPORTERS)
def import_mapping(token: str):
    if token not in session.get(TOKENS, []):
        abort(404)
    table = _kept_table(token)
    if table is None:
        return redirect(url_for(".import_upload"))
    form = MappingForm.for_columns(table.headers, columns.guess_mapping(table.headers))
    plan = None
    if form.validate_on_submit():
        plan = planning.plan(table, form.mapping(), skip_invalid=form.skip_invalid.data)
        if form.submit.data and plan.can_apply:
            imported = _import(token, table, plan, form)
            if imported is not None:
                return imported
            plan = planning.plan(table, form.mapping(), skip_invalid=form.skip_invalid.data)
    elif not form.is_submitted():
        plan = _first_plan(table, form)
    return render_template(
        "suppliers/import_mapping.html",
        form=form,
        table=table,
        plan=plan,
        tried=form.submit.data and not form.form_errors,
        samples=preview.samples(table),
        max_shown=MAX_SHOWN,
        preview_rows=preview.PREVIEW_ROWS,
        shown=preview.shown,
        errors_by_cell=preview.errors_by_cell,
    )


def _import(token: str, table: files.Table, plan: planning.Plan, form: MappingForm):
    """Import the plan: a redirect, or None (said on the form) when another import or change
    saved the same suppliers meanwhile. The kept file goes once the import is committed, and is
    kept again if it is not."""
    folder = kept_folder()
    if not files.claim(folder, token):  # imported meanwhile (a double click)
        flash(
            _(
                "This file is being imported or has been imported already. Look at the "
                "supplier register before uploading it again."
            ),
            "error",
        )
        return redirect(url_for(".import_upload"))
    unit_of_work.on_rollback(lambda: files.release(folder, token))
    try:
        summary = writing.apply(plan, clock.now(), table.name)
    except IntegrityError:  # another import or change saved the same supplier meanwhile
        unit_of_work.discard()
        form.form_errors.append(
            _(
                "Nothing was imported: some of these suppliers or contacts were saved by "
                "someone else meanwhile. Check the updated preview and import again."
            )
        )
        return None
    unit_of_work.on_commit(lambda: _imported(folder, token, summary))
    return redirect(url_for(".import_done"))


def _imported(folder, token: str, summary: planning.Summary) -> None:
    files.discard(folder, token)
    session[RESULT] = vars(summary)


def _kept_table(token: str) -> files.Table | None:
    """The user's kept upload, read again; None, with the reason flashed, if it cannot be."""
    kept = files.unstash(kept_folder(), token, current_user.id)
    if kept is None:
        flash(_("The uploaded file is no longer kept. Upload it again."), "error")
        return None
    try:
        return _read(*kept)
    except files.FileRefused as exc:  # the limits changed since the upload
        flash(str(exc), "error")
        return None


def _first_plan(table: files.Table, form: MappingForm) -> planning.Plan | None:
    """The preview with the guessed mapping, if it can be used."""
    try:
        return planning.plan(table, form.mapping())
    except columns.MappingRefused as exc:
        form.form_errors.append(str(exc))
        return None


@bp.route("/import/done")
@access(write=IMPORTERS)
def import_done():
    counts = session.get(RESULT)
    if counts is None:
        return redirect(url_for(".import_upload"))
    return render_template("suppliers/import_done.html", summary=planning.Summary(**counts))


@bp.route("/import/template.<any(csv, xlsx):fmt>")
@access(write=IMPORTERS)
@download
def import_template(fmt: str):
    buffer = io.BytesIO()
    template.write_template(buffer, fmt)
    return send_download(buffer, fmt, f"supplier-import-template.{fmt}")

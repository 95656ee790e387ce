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
from vendorrisk.blueprints.common.transfer import send_download
from vendorrisk.blueprints.suppliers import bp
from vendorrisk.blueprints.suppliers.import_forms import MappingForm, UploadForm
from vendorrisk.extensions import db
from vendorrisk.services.register.imports import files as import_files
from vendorrisk.services.register.imports import rows as imports
from vendorrisk.services.register.imports.files import kept_folder

#: The session's list of the user's kept uploads, and the counts of the last import.
TOKENS = "supplier_imports"
RESULT = "supplier_import_result"
#: Errors listed on the page at most.
MAX_SHOWN = 200


def _read(data: bytes, name: str) -> import_files.Table:
    max_rows = current_app.config.get("IMPORT_MAX_ROWS", import_files.MAX_ROWS)
    return import_files.read_table(data, name, current_app.config["MAX_UPLOAD_BYTES"], max_rows)


@bp.route("/import", methods=["GET", "POST"])
@access(write=IMPORTERS)
def import_upload():
    form = UploadForm()
    if form.validate_on_submit():
        upload = form.file.data
        data = upload.stream.read(current_app.config["MAX_UPLOAD_BYTES"] + 1)
        try:
            _read(data, upload.filename or "")
            token = import_files.stash(kept_folder(), data, upload.filename, current_user.id)
        except import_files.FileRefused as exc:
            form.file.errors = [*form.file.errors, str(exc)]
        else:
            session[TOKENS] = [*session.get(TOKENS, [])[-4:], token]
            return redirect(url_for(".import_mapping", token=token))
    return render_template("suppliers/import.html", form=form, columns=imports.help_rows())


@bp.route("/import/<token>", methods=["GET", "POST"])
@access(write=IMPORTERS)
def import_mapping(token: str):
    if token not in session.get(TOKENS, []):
        abort(404)
    table = _kept_table(token)
    if table is None:
        return redirect(url_for(".import_upload"))
    form = MappingForm.for_columns(table.headers, imports.guess_mapping(table.headers))
    plan = None
    if form.validate_on_submit():
        plan = imports.plan(table, form.mapping(), skip_invalid=form.skip_invalid.data)
        if form.submit.data and plan.can_apply:
            if not import_files.claim(kept_folder(), token):  # imported meanwhile (a double click)
                flash(
                    _(
                        "This file is being imported or has been imported already. Look at the "
                        "supplier register before uploading it again."
                    ),
                    "error",
                )
                return redirect(url_for(".import_upload"))
            try:
                summary = imports.apply(plan, clock.now(), table.name)
                db.session.commit()
            except IntegrityError:  # another import or change saved the same supplier meanwhile
                db.session.rollback()
                import_files.release(kept_folder(), token)
                form.form_errors.append(
                    _(
                        "Nothing was imported: some of these suppliers or contacts were saved by "
                        "someone else meanwhile. Check the updated preview and import again."
                    )
                )
                plan = imports.plan(table, form.mapping(), skip_invalid=form.skip_invalid.data)
            except BaseException:
                db.session.rollback()
                import_files.release(kept_folder(), token)
                raise
            else:
                import_files.discard(kept_folder(), token)
                session[RESULT] = vars(summary)
                return redirect(url_for(".import_done"))
    elif not form.is_submitted():
        plan = _first_plan(table, form)
    return render_template(
        "suppliers/import_mapping.html",
        form=form,
        table=table,
        plan=plan,
        tried=form.submit.data and not form.form_errors,
        samples=imports.samples(table),
        max_shown=MAX_SHOWN,
        preview_rows=imports.PREVIEW_ROWS,
        shown=imports.shown,
        errors_by_cell=imports.errors_by_cell,
    )


def _kept_table(token: str) -> import_files.Table | None:
    """The user's kept upload, read again; None, with the reason flashed, if it cannot be."""
    kept = import_files.unstash(kept_folder(), token, current_user.id)
    if kept is None:
        flash(_("The uploaded file is no longer kept. Upload it again."), "error")
        return None
    try:
        return _read(*kept)
    except import_files.FileRefused as exc:  # the limits changed since the upload
        flash(str(exc), "error")
        return None


def _first_plan(table: import_files.Table, form: MappingForm) -> imports.Plan | None:
    """The preview with the guessed mapping, if it can be used."""
    try:
        return imports.plan(table, form.mapping())
    except imports.MappingRefused as exc:
        form.form_errors.append(str(exc))
        return None


@bp.route("/import/done")
@access(write=IMPORTERS)
def import_done():
    counts = session.get(RESULT)
    if counts is None:
        return redirect(url_for(".import_upload"))
    return render_template("suppliers/import_done.html", summary=imports.Summary(**counts))


@bp.route("/import/template.<any(csv, xlsx):fmt>")
@access(write=IMPORTERS)
def import_template(fmt: str):
    buffer = io.BytesIO()
    imports.write_template(buffer, fmt)
    return send_download(buffer, fmt, f"supplier-import-template.{fmt}")

"""The questionnaire catalog: every edition, read-only, in either language; admins replace its
working translations (仮訳) with the guideline's own Japanese from a file."""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from werkzeug.datastructures import FileStorage
from wtforms import SubmitField

from vendorrisk.access import ADMINS, READERS, access
from vendorrisk.blueprints.assessments import bp
from vendorrisk.catalog import CatalogError, Template, catalog, refresh
from vendorrisk.i18n import current_locale
from vendorrisk.services import audit, official_text
from vendorrisk.services.register.imports import files
from vendorrisk.vocab import LOCALES, Locale


class OfficialTextForm(FlaskForm):
    """A file of item id → the guideline's own Japanese text, as `import-text` reads it."""

    file = FileField(
        _l("CSV or Excel file"),
        validators=[FileRequired(_l("Choose a file to import."))],
        render_kw={"accept": ".csv,.xlsx"},
        description=_l(
            "CSV (UTF-8 or Shift_JIS) or Excel (.xlsx, first sheet) with a header row, then one "
            "row per text: in the first column the item id (for example D5-7, or P2-3 for an "
            "item of the principles), or D1 … D10 / P1 … P3 for a direction's or principle's "
            "title; in the second its Japanese text as the guideline words it."
        ),
    )
    submit = SubmitField(_l("Import the official text"))


@bp.route("/questionnaires/")
@access(read=READERS)
def questionnaires():
    return render_template(
        "assessments/questionnaires.html", templates=catalog().current(), errors=catalog().errors
    )


@bp.route("/questionnaires/<template_id>")
@access(read=READERS)
def questionnaire(template_id: str):
    version = request.args.get("version", type=int)
    template = catalog().get(template_id, version) or abort(404)
    return _page(template, OfficialTextForm() if _importable(template) else None)


@bp.route("/questionnaires/<template_id>/official-text", methods=["POST"])
@access(write=ADMINS)
def official_text_import(template_id: str):
    template = catalog().get(template_id) or abort(404)
    if not _importable(template):
        abort(404)  # nothing there is a working translation: there is nothing to replace
    form = OfficialTextForm()
    if form.validate_on_submit():
        try:
            written = _import(template, form.file.data)
        except (files.FileRefused, official_text.TextImportError, CatalogError, OSError) as exc:
            form.file.errors = [*form.file.errors, *_problems(template, exc)]
        else:
            flash(_imported(template, written), "success")
            return redirect(_here(template, request.args.get("lang")))
    return _page(template, form)


def _page(template: Template, upload_form: OfficialTextForm | None):
    lang = request.args.get("lang")
    if lang not in LOCALES:
        lang = current_locale()
    return render_template(
        "assessments/questionnaire.html", template=template, lang=lang, upload_form=upload_form
    )


def _here(template: Template, lang: str | None) -> str:
    return url_for(
        ".questionnaire", template_id=template.id, lang=lang if lang in LOCALES else None
    )


def _importable(template: Template) -> bool:
    """Whether this is the template's current version and a Japanese text of it is a 仮訳."""
    if catalog().get(template.id).version != template.version:
        return False
    texts = [*(s.title for s in template.sections), *(q.text for q in template.questions)]
    return any(Locale.ja in text.working for text in texts)


def _import(template: Template, upload: FileStorage) -> official_text.Imported:
    """Write the template's next version from the upload, audited as the CLI audits it."""
    limit = current_app.config["MAX_UPLOAD_BYTES"]
    name = upload.filename or ""
    table = files.read_table(upload.stream.read(limit + 1), name, limit)
    texts = official_text.read_texts(table, template)
    source = " ".join(name.split())  # a line break in a file name would end the YAML comment
    written = official_text.write_version(template, texts, source)
    audit.record(
        "template_text_imported",
        summary=f"{written.template_key}: {written.replaced} official text(s) from {source}",
    )
    refresh()  # this process serves the new version from its next request
    return written


def _problems(template: Template, exc: Exception) -> list[str]:
    """Why nothing was imported, one problem a line, in the reader's language."""
    if isinstance(exc, OSError):  # a questionnaire folder the server may not write to
        current_app.logger.exception("the official text of %s was not written", template.key)
        return [_("The new version could not be saved: %(error)s", error=exc.strerror or str(exc))]
    return getattr(exc, "problems", None) or [str(exc)]


def _imported(template: Template, written: official_text.Imported) -> str:
    return ngettext(
        "Saved as version %(version)d of %(title)s: %(num)d text is now the guideline's own "
        "wording.",
        "Saved as version %(version)d of %(title)s: %(num)d texts are now the guideline's own "
        "wording.",
        written.replaced,
        version=template.version + 1,
        title=template.title.get(current_locale()),
    )

"""The questionnaire catalog: every edition, read-only, in either language."""

from flask import abort, render_template, request

from vendorrisk.access import READERS, access
from vendorrisk.blueprints.assessments import bp
from vendorrisk.catalog import catalog
from vendorrisk.i18n import current_locale
from vendorrisk.vocab import LOCALES


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
    lang = request.args.get("lang")
    if lang not in LOCALES:
        lang = current_locale()
    return render_template("assessments/questionnaire.html", template=template, lang=lang)

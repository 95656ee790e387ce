"""What the assessment pages look up from their URL, and where they send the browser back."""

from flask import abort, flash, redirect, url_for

from vendorrisk.blueprints.assessments.forms import review_forms
from vendorrisk.catalog import catalog
from vendorrisk.catalog.editions import EDITIONS
from vendorrisk.catalog.scs import PACKS
from vendorrisk.models import Assessment
from vendorrisk.services.assessments import lifecycle as assessments
from vendorrisk.services.register import suppliers


def supplier_templates():
    """The current questionnaires that can be sent to suppliers: by edition, newest first, then
    by pack (lite, standard, full)."""
    found = [t for t in catalog().current() if t.audience == "supplier"]
    editions = list(EDITIONS)
    return sorted(found, key=lambda t: (-editions.index(t.edition), PACKS.index(t.pack), t.id))


def assessment_or_404(assessment_id: int) -> Assessment:
    return assessments.get_full(assessment_id) or abort(404)


def template_of(assessment: Assessment):
    """The questionnaire edition the assessment was sent with (it must still be loadable)."""
    return catalog().get(assessment.template_id, assessment.template_version) or abort(500)


def back_to_assessment(assessment_id: int, message: str | None = None, anchor: str | None = None):
    """Say what was done (if anything) and go back to the assessment's page."""
    if message:
        flash(message, "success")
    return redirect(url_for("assessments.detail", assessment_id=assessment_id, _anchor=anchor))


def posted_review_form(assessment_id: int, name: str):
    """The assessment, its questionnaire and the reviewer's form `name` (not yet validated)."""
    assessment = assessment_or_404(assessment_id)
    template = template_of(assessment)
    return assessment, template, review_forms(template, suppliers.owners())[name]

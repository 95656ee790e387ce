"""Portal requests parsed into plain data; the questionnaire form is built from the template."""

from __future__ import annotations

from werkzeug.datastructures import MultiDict

from vendorrisk.catalog import Question
from vendorrisk.services.assessments.portal import Posted


def field_names(question: Question) -> dict[str, str]:
    return {
        "value": f"a-{question.id}",
        "comment": f"c-{question.id}",
        "version": f"v-{question.id}",
        "files": f"f-{question.id}",
    }


def posted_answers(form: MultiDict, questions: list[Question]) -> dict[str, Posted]:
    """The answers of the questions present in the form (file questions carry only files)."""
    posted = {}
    for q in questions:
        names = field_names(q)
        if names["version"] not in form:
            continue
        value = q.kind.from_form(form, names["value"])
        try:
            version = int(form.get(names["version"], "0"))
        except ValueError:
            version = -1
        posted[q.id] = Posted(value=value, comment=form.get(names["comment"], ""), version=version)
    return posted

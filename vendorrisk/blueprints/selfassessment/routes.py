import math

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from vendorrisk import clock
from vendorrisk.access import READERS, SELF_ASSESSMENT_EDITORS, access
from vendorrisk.blueprints.common.transfer import store_upload
from vendorrisk.blueprints.common.unit_of_work import fails_to
from vendorrisk.blueprints.selfassessment import bp
from vendorrisk.blueprints.selfassessment.forms import (
    CloseForm,
    CycleForm,
    ItemForm,
    KpiForm,
    kpi_text,
    kpi_values,
)
from vendorrisk.i18n import current_locale
from vendorrisk.i18n.labels import (
    CHANGE_LABELS,
    CLAUSE_LABELS,
    ITEM_STATUS_LABELS,
    RELATION_LABELS,
    REVIEW_LABELS,
    direction_title,
)
from vendorrisk.services.register import suppliers
from vendorrisk.services.selfassessment import contradictions, cycles, summary
from vendorrisk.services.selfassessment.cycles import (
    CycleClosed,
    SelfAssessmentError,
    VersionConflict,
)
from vendorrisk.services.selfassessment.indicators import indicators_of
from vendorrisk.services.selfassessment.kpis import KPIS, kpi_history, save_kpis, saved_values
from vendorrisk.web import can


@bp.context_processor
def _helpers():
    return {
        "status_label": lambda s: str(ITEM_STATUS_LABELS[s]) if s else _("Not answered"),
        "change_label": lambda c: str(CHANGE_LABELS[c]),
        "directive_label": direction_title,
        "KPIS": KPIS,
        "kpi_text": kpi_text,
        "clause_label": lambda c: str(CLAUSE_LABELS[c]),
        "review_label": lambda r: str(REVIEW_LABELS[r]),
        "relation_label": lambda r: str(RELATION_LABELS[r]),
    }


def _edition(cycle) -> str:
    """The edition label of a cycle's template ("Ver 3.0")."""
    template = cycles.template_of(cycle)
    return template.guideline.label if template else cycle.template_id


def _cycle(cycle_id: int):
    return cycles.get_full(cycle_id) or abort(404)


def _template(cycle):
    return cycles.template_of(cycle) or abort(500)


@bp.route("/")
@access(read=READERS)
def index():
    history = cycles.history()
    return render_template(
        "selfassessment/index.html",
        history=history,
        editions={h.cycle.id: _edition(h.cycle) for h in history},
        open_cycle=cycles.open_cycle(),
        template=cycles.current_template(),
    )


@bp.route("/cycles/new", methods=["GET", "POST"])
@access(write=SELF_ASSESSMENT_EDITORS)
@fails_to(".new_cycle")  # another cycle was started meanwhile
def new_cycle():
    current, last = cycles.open_cycle(), cycles.latest_cycle()
    templates = cycles.next_templates(last)
    form = CycleForm(last=last, templates=templates)
    if current is None and form.validate_on_submit():
        template = next(t for t in templates if t.id == form.template.data)
        cycle = cycles.start_cycle(
            form.name.data, form.as_of.data, template, current_user, clock.now()
        )
        flash(_("The cycle %(name)s has been started.", name=cycle.name), "success")
        if cycle.carried:
            flash(
                _(
                    "Carried from %(name)s through the crosswalk: %(count)d item(s) are to be "
                    "confirmed.",
                    name=cycle.carried["from_cycle"],
                    count=len(cycles.to_review(cycle)),
                ),
                "info",
            )
        return redirect(url_for(".cycle", cycle_id=cycle.id))
    if request.method == "GET" and not form.name.data:
        form.as_of.data = form.as_of.data or clock.today()
        form.name.data = cycles.cycle_name(form.as_of.data)
    return render_template(
        "selfassessment/new.html",
        form=form,
        last=last,
        current=current,
        last_template=cycles.template_of(last) if last else None,
    )


@bp.route("/cycles/<int:cycle_id>")
@access(read=READERS)
def cycle(cycle_id: int):
    cycle = _cycle(cycle_id)
    template = _template(cycle)
    previous = cycles.previous_of(cycle)
    items = cycles.items_by_question(cycle)
    scores = cycles.scores_of(cycle, {q: i.status for q, i in items.items()})
    gaps = cycles.gaps(cycle)
    found = indicators_of(cycle, clock.today())
    return render_template(
        "selfassessment/cycle.html",
        cycle=cycle,
        template=template,
        lang=current_locale(),
        items=items,
        previous=previous,
        before=cycles.items_by_question(previous),
        scores=scores,
        last_scores=_scores(previous, template),
        directive_rows=_directive_rows(template, scores),
        to_review=cycles.to_review(cycle),
        carried=_carried(cycle, template),
        before_status=cycles.previous_statuses(cycle, previous),
        item_ids={q.mapping.item: q.id for q in template.questions if q.mapping.item},
        **_edition_break(cycle, template, previous),
        gaps=gaps,
        gap_ids={i.question_id for i in gaps},
        counts=cycles.status_counts(cycle.items),
        indicators=found,
        contradictions=contradictions.by_question(found, template, items),
        editable=cycle.is_open and can("selfassessment.item", "POST"),
        today=clock.today(),
    )


def _scores(cycle, template=None):
    """A cycle's scores (on `template` of a later edition through the crosswalk, when given)."""
    if cycle is None:
        return None
    return cycles.scores_of(cycle, {i.question_id: i.status for i in cycle.items}, template)


def _directive_rows(template, scores) -> list[dict]:
    """The bar chart's rows: each directive's score, linking to its section."""
    return [
        {
            "label": direction_title(section.questions[0].mapping.directive),
            "value": scores.directives.get(section.questions[0].mapping.directive),
            "href": f"#{section.id}",
        }
        for section in template.direction_sections
    ]


def _edition_break(cycle, template, previous) -> dict:
    """What the pages need to mark an edition break before `cycle` (nothing without one)."""
    if not cycles.edition_break(cycle, previous):
        return {"edition_break": False, "previous_edition": "", "edition_changes": []}
    old = cycles.template_of(previous)
    return {
        "edition_break": True,
        "previous_edition": old.guideline.label if old else previous.template_id,
        "edition_changes": cycles.edition_changes(old, template) if old else [],
    }


def _carried(cycle, template) -> dict | None:
    """Where the answers of the last cycle of the earlier edition went, for the cycle page:
    the rows of the crosswalk with their Ver 2.0 status, the dropped ones first."""
    if not cycle.carried:
        return None
    rows = sorted(cycle.carried["rows"], key=lambda r: r["relation"] != "dropped")
    old = cycle.carried["from"].split("@")
    source = cycles.catalog_template(old[0], int(old[1])) if len(old) == 2 else None
    return {
        "from_cycle": cycle.carried["from_cycle"],
        "edition": source.guideline.label if source else old[0],
        "rows": rows,
        "dropped": [r for r in rows if r["relation"] == "dropped"],
    }


def _after_save(form, template, cycle_id: int, question_id: str) -> str | None:
    """The next item's form when asked for (and there is one)."""
    ids = [q.id for q in template.questions]
    position = ids.index(question_id) + 1
    if not form.submit_next.data or position >= len(ids):
        return None
    return url_for(".item", cycle_id=cycle_id, question_id=ids[position])


def _item_page(cycle, template, item, form, theirs=None):
    question = template.question(item.question_id)
    found = _indicators_for(cycle, question)
    return render_template(
        "selfassessment/item.html",
        cycle=cycle,
        question=question,
        edition=template.edition,
        item=item,
        form=form,
        theirs=theirs,
        lang=current_locale(),
        back=url_for(".cycle", cycle_id=cycle.id, _anchor=item.question_id),
        indicators=found,
        contradictions=contradictions.contradictions(
            found, template.edition, question.mapping.item, item.status
        ),
    )


def _item_refused(error: SelfAssessmentError, cycle_id: int, question_id: str):
    """Saved meanwhile: what was typed beside the version now saved (and its version, to save
    over it). Closed meanwhile: back to the cycle. Nothing was kept, an uploaded file neither."""
    flash(str(error), "error")
    if not isinstance(error, VersionConflict):
        return redirect(url_for(".cycle", cycle_id=cycle_id, _anchor=question_id))
    cycle = _cycle(cycle_id)
    theirs = cycles.items_by_question(cycle)[question_id]
    form = ItemForm(obj=theirs, owners=suppliers.owners(keep_id=theirs.owner_id))
    form.version.data = str(theirs.version)
    return _item_page(cycle, _template(cycle), theirs, form, theirs=theirs)


@bp.route("/cycles/<int:cycle_id>/items/<question_id>", methods=["GET", "POST"])
@access(write=SELF_ASSESSMENT_EDITORS)
@fails_to(render=_item_refused)
def item(cycle_id: int, question_id: str):
    cycle = _cycle(cycle_id)
    template = _template(cycle)
    item = cycles.items_by_question(cycle).get(question_id) or abort(404)
    back = url_for(".cycle", cycle_id=cycle_id, _anchor=question_id)
    if not cycle.is_open:
        flash(str(CycleClosed()), "error")
        return redirect(back)
    form = ItemForm(obj=item, owners=suppliers.owners(keep_id=item.owner_id))
    if form.validate_on_submit():
        stored_ok, stored = store_upload(form.upload)
        if stored_ok:
            data, version = form.model_data(), int(form.version.data)
            saved = cycles.save_item(
                item, data, version, current_user, clock.now(), stored, form.remove_file.data
            )
            flash(_("Saved.") if saved else _("Nothing changed."), "success")
            return redirect(_after_save(form, template, cycle_id, question_id) or back)
    return _item_page(cycle, template, item, form)


def _indicators_for(cycle, question):
    """The supplier programme's figures beside a Direction 9 item (None for the others)."""
    if question.mapping.directive != 9:
        return None
    return indicators_of(cycle, clock.today())


@bp.route("/cycles/<int:cycle_id>/close", methods=["GET", "POST"])
@access(write=SELF_ASSESSMENT_EDITORS)
@fails_to(".cycle")  # closed by someone else meanwhile
def close(cycle_id: int):
    cycle = _cycle(cycle_id)
    if not cycle.is_open:
        flash(_("This cycle is already closed."), "error")
        return redirect(url_for(".cycle", cycle_id=cycle_id))
    form = CloseForm()
    if form.validate_on_submit():
        cycles.close_cycle(cycle, current_user, clock.now(), clock.today())
        flash(_("The cycle has been closed; its answers are now kept as they are."), "success")
        return redirect(url_for(".cycle", cycle_id=cycle_id))
    return render_template(
        "selfassessment/close.html",
        cycle=cycle,
        form=form,
        gaps=cycles.gaps(cycle),
        counts=cycles.status_counts(cycle.items),
        to_review=cycles.to_review(cycle),
    )


@bp.route("/cycles/<int:cycle_id>/compare")
@access(read=READERS)
def compare(cycle_id: int):
    cycle = _cycle(cycle_id)
    template = _template(cycle)
    previous = cycles.previous_of(cycle)
    changes = cycles.compare(cycle, previous)
    only_changed = request.args.get("show") == "changed"
    # the trend is drawn on the newest cycle's items, earlier editions through the crosswalk
    newest = cycles.current_template() or template
    history = cycles.history(newest)
    return render_template(
        "selfassessment/compare.html",
        cycle=cycle,
        previous=previous,
        **_edition_break(cycle, template, previous),
        changes=[c for c in changes if c.change != "unchanged"] if only_changed else changes,
        tally={k: sum(c.change == k for c in changes) for k in CHANGE_LABELS},
        only_changed=only_changed,
        trend=_trend(history, newest),
        summary=summary.summary(cycle, with_indicators=False) if previous else None,
        lang=current_locale(),
    )


def _trend(history, template) -> dict:
    """Each directive's score across the cycles (on `template`'s items, the cycles of an earlier
    edition through the crosswalk): two line charts of five, and a heat map. A cycle that starts
    a new edition is labelled "▶ name (Ver 3.0)"."""
    labels, breaks, before = [], [], None
    for h in history:
        edition = _edition(h.cycle)
        starts = before is not None and edition != before
        labels.append(f"▶ {h.cycle.name} ({edition})" if starts else h.cycle.name)
        if starts:
            breaks.append(h.cycle.name)
        before = edition
    directives = sorted(cycles.directive_titles(template))
    series = [
        {"name": _("Direction %(n)d", n=n), "values": [h.directives.get(n) for h in history]}
        for n in directives
    ]
    heat = [{"label": s["name"], "cells": s["values"]} for s in series]
    return {
        "labels": labels,
        "first": series[:5],
        "second": series[5:],
        "heat": heat,
        "breaks": breaks,
        "edition": template.guideline.label,
    }


def _nice_top(values) -> int:
    """A y-axis top for counts: at least 4, a multiple of 4 so the quarter lines are whole."""
    top = max((v for v in values if v is not None), default=0)
    return max(4, math.ceil(top / 4) * 4)


def _kpi_form(cycle) -> KpiForm:
    """The KPI form: what was posted, else the values saved, with the version they are at."""
    saved = saved_values(cycle)
    return KpiForm(
        data={k.key: kpi_text(k, saved.get(k.key)) for k in KPIS}
        | {"version": str(cycle.kpi_version)}
    )


def _kpis_page(cycle, form: KpiForm, theirs: dict | None = None):
    found, series = kpi_history()
    return render_template(
        "selfassessment/kpis.html",
        cycle=cycle,
        form=form,
        saved=saved_values(cycle),
        theirs=theirs,
        editable=cycle.is_open and can("selfassessment.kpis", "POST"),
        labels=[c.name for c in found],
        percent_series=_kpi_series(series, "percent"),
        count_series=_kpi_series(series, "count"),
        count_top=_nice_top(v for k in KPIS if k.unit == "count" for v in series[k.key]),
    )


def _kpis_refused(error: SelfAssessmentError, cycle_id: int):
    """Saved meanwhile: what was typed beside the values now saved. Closed meanwhile: the page."""
    flash(str(error), "error")
    if not isinstance(error, VersionConflict):
        return redirect(url_for(".kpis", cycle_id=cycle_id))
    cycle = _cycle(cycle_id)
    form = _kpi_form(cycle)
    form.version.data = str(cycle.kpi_version)
    return _kpis_page(cycle, form, theirs=saved_values(cycle))


@bp.route("/cycles/<int:cycle_id>/kpis", methods=["GET", "POST"])
@access(read=READERS, write=SELF_ASSESSMENT_EDITORS)
@fails_to(render=_kpis_refused)
def kpis(cycle_id: int):
    cycle = _cycle(cycle_id)
    if request.method == "POST" and not cycle.is_open:
        flash(str(CycleClosed()), "error")
        return redirect(url_for(".kpis", cycle_id=cycle_id))
    form = _kpi_form(cycle)
    if form.validate_on_submit():
        save_kpis(cycle, kpi_values(form), int(form.version.data))
        flash(_("The KPI values have been saved."), "success")
        return redirect(url_for(".kpis", cycle_id=cycle_id))
    return _kpis_page(cycle, form)


def _kpi_series(series: dict, unit: str) -> list[dict]:
    """The KPIs of one unit as chart series (counts as whole numbers)."""
    whole = unit == "count"
    return [
        {
            "name": k.label,
            "values": [int(v) if whole and v is not None else v for v in series[k.key]],
        }
        for k in KPIS
        if k.unit == unit
    ]

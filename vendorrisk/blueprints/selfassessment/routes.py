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
from vendorrisk.i18n.labels import CHANGE_LABELS, CLAUSE_LABELS, ITEM_STATUS_LABELS, direction_title
from vendorrisk.services.register import suppliers
from vendorrisk.services.selfassessment import cycles, summary
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
    }


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
        open_cycle=cycles.open_cycle(),
        template=cycles.current_template(),
    )


@bp.route("/cycles/new", methods=["GET", "POST"])
@access(write=SELF_ASSESSMENT_EDITORS)
@fails_to(".new_cycle")  # another cycle was started meanwhile
def new_cycle():
    current, last = cycles.open_cycle(), cycles.latest_cycle()
    form = CycleForm(last=last)
    if current is None and form.validate_on_submit():
        cycle = cycles.start_cycle(
            form.name.data,
            form.as_of.data,
            cycles.current_template() or abort(500),
            current_user,
            clock.now(),
        )
        flash(_("The cycle %(name)s has been started.", name=cycle.name), "success")
        return redirect(url_for(".cycle", cycle_id=cycle.id))
    if request.method == "GET" and not form.name.data:
        form.as_of.data = form.as_of.data or clock.today()
        form.name.data = cycles.cycle_name(form.as_of.data)
    return render_template("selfassessment/new.html", form=form, last=last, current=current)


@bp.route("/cycles/<int:cycle_id>")
@access(read=READERS)
def cycle(cycle_id: int):
    cycle = _cycle(cycle_id)
    template = _template(cycle)
    previous = cycles.previous_of(cycle)
    items = cycles.items_by_question(cycle)
    scores = cycles.scores_of(cycle, {q: i.status for q, i in items.items()})
    gaps = cycles.gaps(cycle)
    return render_template(
        "selfassessment/cycle.html",
        cycle=cycle,
        template=template,
        lang=current_locale(),
        items=items,
        previous=previous,
        before=cycles.items_by_question(previous),
        scores=scores,
        last_scores=_scores(previous),
        directive_rows=_directive_rows(template, scores),
        gaps=gaps,
        gap_ids={i.question_id for i in gaps},
        counts=cycles.status_counts(cycle.items),
        indicators=indicators_of(cycle, clock.today()),
        editable=cycle.is_open and can("selfassessment.item", "POST"),
        today=clock.today(),
    )


def _scores(cycle):
    if cycle is None:
        return None
    return cycles.scores_of(cycle, {i.question_id: i.status for i in cycle.items})


def _directive_rows(template, scores) -> list[dict]:
    """The bar chart's rows: each directive's score, linking to its section."""
    return [
        {
            "label": direction_title(section.questions[0].mapping.directive),
            "value": scores.directives.get(section.questions[0].mapping.directive),
            "href": f"#{section.id}",
        }
        for section in template.sections
    ]


def _after_save(form, template, cycle_id: int, question_id: str) -> str | None:
    """The next item's form when asked for (and there is one)."""
    ids = [q.id for q in template.questions]
    position = ids.index(question_id) + 1
    if not form.submit_next.data or position >= len(ids):
        return None
    return url_for(".item", cycle_id=cycle_id, question_id=ids[position])


def _item_page(cycle, template, item, form, theirs=None):
    question = template.question(item.question_id)
    return render_template(
        "selfassessment/item.html",
        cycle=cycle,
        question=question,
        item=item,
        form=form,
        theirs=theirs,
        lang=current_locale(),
        back=url_for(".cycle", cycle_id=cycle.id, _anchor=item.question_id),
        indicators=_indicators_for(cycle, question),
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
    )


@bp.route("/cycles/<int:cycle_id>/compare")
@access(read=READERS)
def compare(cycle_id: int):
    cycle = _cycle(cycle_id)
    template = _template(cycle)
    previous = cycles.previous_of(cycle)
    changes = cycles.compare(cycle, previous)
    only_changed = request.args.get("show") == "changed"
    history = cycles.history()
    return render_template(
        "selfassessment/compare.html",
        cycle=cycle,
        previous=previous,
        changes=[c for c in changes if c.change != "unchanged"] if only_changed else changes,
        tally={k: sum(c.change == k for c in changes) for k in CHANGE_LABELS},
        only_changed=only_changed,
        trend=_trend(history, template),
        summary=summary.summary(cycle, with_indicators=False) if previous else None,
        lang=current_locale(),
    )


def _trend(history, template) -> dict:
    """Each directive's score across the cycles: two line charts of five, and a heat map."""
    labels = [h.cycle.name for h in history]
    directives = sorted(cycles.directive_titles(template))
    series = [
        {"name": _("Direction %(n)d", n=n), "values": [h.directives.get(n) for h in history]}
        for n in directives
    ]
    heat = [{"label": s["name"], "cells": s["values"]} for s in series]
    return {"labels": labels, "first": series[:5], "second": series[5:], "heat": heat}


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

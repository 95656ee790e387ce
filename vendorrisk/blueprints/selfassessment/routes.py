import math

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from vendorrisk import clock
from vendorrisk.access import READERS, SELF_ASSESSMENT_EDITORS, access
from vendorrisk.blueprints.common.transfer import store_upload
from vendorrisk.blueprints.selfassessment import bp
from vendorrisk.blueprints.selfassessment.forms import (
    CloseForm,
    CycleForm,
    ItemForm,
    KpiForm,
    kpi_text,
    kpi_values,
)
from vendorrisk.extensions import db
from vendorrisk.i18n import current_locale
from vendorrisk.services.register import d9, suppliers
from vendorrisk.services.selfassessment import cycles as sa_service
from vendorrisk.services.selfassessment.cycles import (
    CHANGE_LABELS,
    KPIS,
    STATUS_LABELS,
    CycleClosed,
    SelfAssessmentError,
    VersionConflict,
)
from vendorrisk.services.selfassessment.indicators import indicators_of
from vendorrisk.web import can


@bp.context_processor
def _helpers():
    return {
        "status_label": lambda s: str(STATUS_LABELS[s]) if s else _("Not answered"),
        "change_label": lambda c: str(CHANGE_LABELS[c]),
        "directive_label": lambda n: _("Directive %(n)d", n=n),
        "KPIS": KPIS,
        "kpi_text": kpi_text,
        "clause_label": lambda c: str(d9.CLAUSE_LABELS[c]),
    }


def _cycle(cycle_id: int):
    return sa_service.get_full(cycle_id) or abort(404)


def _template(cycle):
    return sa_service.template_of(cycle) or abort(500)


@bp.route("/")
@access(read=READERS)
def index():
    history = sa_service.history()
    return render_template(
        "selfassessment/index.html",
        history=history,
        open_cycle=sa_service.open_cycle(),
        template=sa_service.current_template(),
    )


@bp.route("/cycles/new", methods=["GET", "POST"])
@access(write=SELF_ASSESSMENT_EDITORS)
def new_cycle():
    current, last = sa_service.open_cycle(), sa_service.latest_cycle()
    form = CycleForm(last=last)
    if current is None and form.validate_on_submit():
        try:
            cycle = sa_service.start_cycle(
                form.name.data,
                form.as_of.data,
                sa_service.current_template() or abort(500),
                current_user,
                clock.now(),
            )
        except SelfAssessmentError as exc:  # another cycle was started meanwhile
            db.session.rollback()
            flash(str(exc), "error")
            return redirect(url_for(".new_cycle"))
        db.session.commit()
        flash(_("The cycle %(name)s has been started.", name=cycle.name), "success")
        return redirect(url_for(".cycle", cycle_id=cycle.id))
    if request.method == "GET" and not form.name.data:
        form.as_of.data = form.as_of.data or clock.today()
        form.name.data = sa_service.cycle_name(form.as_of.data)
    return render_template("selfassessment/new.html", form=form, last=last, current=current)


@bp.route("/cycles/<int:cycle_id>")
@access(read=READERS)
def cycle(cycle_id: int):
    cycle = _cycle(cycle_id)
    template = _template(cycle)
    previous = sa_service.previous_of(cycle)
    items = sa_service.items_by_question(cycle)
    scores = sa_service.scores_of(cycle, {q: i.status for q, i in items.items()})
    gaps = sa_service.gaps(cycle)
    return render_template(
        "selfassessment/cycle.html",
        cycle=cycle,
        template=template,
        lang=current_locale(),
        items=items,
        previous=previous,
        before=sa_service.items_by_question(previous),
        scores=scores,
        last_scores=_scores(previous),
        directive_rows=_directive_rows(template, scores),
        gaps=gaps,
        gap_ids={i.question_id for i in gaps},
        counts=sa_service.status_counts(cycle.items),
        indicators=indicators_of(cycle, clock.today()),
        editable=cycle.is_open and can("selfassessment.item", "POST"),
        today=clock.today(),
    )


def _scores(cycle):
    if cycle is None:
        return None
    return sa_service.scores_of(cycle, {i.question_id: i.status for i in cycle.items})


def _directive_rows(template, scores) -> list[dict]:
    """The bar chart's rows: each directive's score, linking to its section."""
    return [
        {
            "label": _("Directive %(n)d", n=section.questions[0].mapping.directive),
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


def _item_conflict(form, cycle_id: int, question_id: str, exc: Exception):
    """Roll back, keep what was typed in the form, and show the version saved meanwhile."""
    db.session.rollback()  # and the bytes of a file uploaded with the form (services.files)
    theirs = sa_service.items_by_question(_cycle(cycle_id))[question_id]
    form.version.data = str(theirs.version)
    flash(str(exc), "error")
    return theirs


@bp.route("/cycles/<int:cycle_id>/items/<question_id>", methods=["GET", "POST"])
@access(write=SELF_ASSESSMENT_EDITORS)
def item(cycle_id: int, question_id: str):
    cycle = _cycle(cycle_id)
    template = _template(cycle)
    item = sa_service.items_by_question(cycle).get(question_id) or abort(404)
    back = url_for(".cycle", cycle_id=cycle_id, _anchor=question_id)
    if not cycle.is_open:
        flash(str(CycleClosed()), "error")
        return redirect(back)
    form = ItemForm(obj=item, owners=suppliers.owners(keep_id=item.owner_id))
    theirs = None
    if form.validate_on_submit():
        stored_ok, stored = store_upload(form.upload)
        try:
            saved = stored_ok and sa_service.save_item(
                item,
                form.model_data(),
                int(form.version.data),
                current_user,
                clock.now(),
                stored,
                form.remove_file.data,
            )
        except VersionConflict as exc:
            theirs = _item_conflict(form, cycle_id, question_id, exc)
        except SelfAssessmentError as exc:  # closed meanwhile
            db.session.rollback()
            flash(str(exc), "error")
            return redirect(back)
        else:
            if stored_ok:
                db.session.commit()
                flash(_("Saved.") if saved else _("Nothing changed."), "success")
                return redirect(_after_save(form, template, cycle_id, question_id) or back)
    return render_template(
        "selfassessment/item.html",
        cycle=cycle,
        question=template.question(question_id),
        item=item,
        form=form,
        theirs=theirs,
        lang=current_locale(),
        back=back,
        indicators=_indicators_for(cycle, template.question(question_id)),
    )


def _indicators_for(cycle, question):
    """The supplier programme's figures beside a Directive 9 item (None for the others)."""
    if question.mapping.directive != 9:
        return None
    return indicators_of(cycle, clock.today())


@bp.route("/cycles/<int:cycle_id>/close", methods=["GET", "POST"])
@access(write=SELF_ASSESSMENT_EDITORS)
def close(cycle_id: int):
    cycle = _cycle(cycle_id)
    if not cycle.is_open:
        flash(_("This cycle is already closed."), "error")
        return redirect(url_for(".cycle", cycle_id=cycle_id))
    form = CloseForm()
    if form.validate_on_submit():
        try:
            sa_service.close_cycle(cycle, current_user, clock.now(), clock.today())
        except SelfAssessmentError as exc:  # closed by someone else meanwhile
            db.session.rollback()
            flash(str(exc), "error")
            return redirect(url_for(".cycle", cycle_id=cycle_id))
        db.session.commit()
        flash(_("The cycle has been closed; its answers are now kept as they are."), "success")
        return redirect(url_for(".cycle", cycle_id=cycle_id))
    return render_template(
        "selfassessment/close.html",
        cycle=cycle,
        form=form,
        gaps=sa_service.gaps(cycle),
        counts=sa_service.status_counts(cycle.items),
    )


@bp.route("/cycles/<int:cycle_id>/compare")
@access(read=READERS)
def compare(cycle_id: int):
    cycle = _cycle(cycle_id)
    template = _template(cycle)
    previous = sa_service.previous_of(cycle)
    changes = sa_service.compare(cycle, previous)
    only_changed = request.args.get("show") == "changed"
    history = sa_service.history()
    return render_template(
        "selfassessment/compare.html",
        cycle=cycle,
        previous=previous,
        changes=[c for c in changes if c.change != "unchanged"] if only_changed else changes,
        tally={k: sum(c.change == k for c in changes) for k in CHANGE_LABELS},
        only_changed=only_changed,
        trend=_trend(history, template),
        summary=sa_service.summary(cycle, with_indicators=False) if previous else None,
        lang=current_locale(),
    )


def _trend(history, template) -> dict:
    """Each directive's score across the cycles: two line charts of five, and a heat map."""
    labels = [h.cycle.name for h in history]
    directives = sorted(sa_service.directive_titles(template))
    series = [
        {"name": _("Directive %(n)d", n=n), "values": [h.directives.get(n) for h in history]}
        for n in directives
    ]
    heat = [{"label": s["name"], "cells": s["values"]} for s in series]
    return {"labels": labels, "first": series[:5], "second": series[5:], "heat": heat}


def _nice_top(values) -> int:
    """A y-axis top for counts: at least 4, a multiple of 4 so the quarter lines are whole."""
    top = max((v for v in values if v is not None), default=0)
    return max(4, math.ceil(top / 4) * 4)


@bp.route("/cycles/<int:cycle_id>/kpis", methods=["GET", "POST"])
@access(read=READERS, write=SELF_ASSESSMENT_EDITORS)
def kpis(cycle_id: int):
    cycle = _cycle(cycle_id)
    if request.method == "POST" and not cycle.is_open:
        flash(str(CycleClosed()), "error")
        return redirect(url_for(".kpis", cycle_id=cycle_id))
    saved = sa_service.kpi_values(cycle)
    form = KpiForm(
        data={k.key: kpi_text(k, saved.get(k.key)) for k in KPIS}
        | {"version": str(cycle.kpi_version)}
    )
    theirs = None
    if form.validate_on_submit():
        try:
            sa_service.save_kpis(cycle, kpi_values(form), int(form.version.data))
        except VersionConflict as exc:
            db.session.rollback()
            fresh = _cycle(cycle_id)
            theirs = sa_service.kpi_values(fresh)
            form.version.data = str(fresh.kpi_version)
            flash(str(exc), "error")
        except SelfAssessmentError as exc:  # closed meanwhile
            db.session.rollback()
            flash(str(exc), "error")
            return redirect(url_for(".kpis", cycle_id=cycle_id))
        else:
            db.session.commit()
            flash(_("The KPI values have been saved."), "success")
            return redirect(url_for(".kpis", cycle_id=cycle_id))
    found, series = sa_service.kpi_history()
    return render_template(
        "selfassessment/kpis.html",
        cycle=cycle,
        form=form,
        saved=saved,
        theirs=theirs,
        editable=cycle.is_open and can("selfassessment.kpis", "POST"),
        labels=[c.name for c in found],
        percent_series=_kpi_series(series, "percent"),
        count_series=_kpi_series(series, "count"),
        count_top=_nice_top(v for k in KPIS if k.unit == "count" for v in series[k.key]),
    )


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

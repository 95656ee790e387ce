"""The management report (HTML to print, XLSX) and the exports of every kind."""

from __future__ import annotations

import io

from flask import abort, render_template, request
from flask_babel import force_locale, get_locale

from vendorrisk import clock
from vendorrisk.access import READERS, access
from vendorrisk.blueprints.common.transfer import download, send_download, send_export
from vendorrisk.blueprints.dashboard import bp, presenter
from vendorrisk.blueprints.dashboard.routes import filter_form
from vendorrisk.services import audit
from vendorrisk.services.reporting import exports, report
from vendorrisk.vocab import LOCALES, Locale


def _report_locale() -> str:
    wanted = request.args.get("lang", "")
    return wanted if wanted in LOCALES else str(get_locale() or Locale.ja)


@bp.route("/report")
@access(read=READERS)
def management_report():
    today, locale = clock.today(), _report_locale()
    with force_locale(locale):
        facts = report.build(today, locale)
        charts = presenter.charts(facts.rollup, presenter.Labels(facts.directives))
        return render_template("dashboard/report.html", report=facts, charts=charts, lang=locale)


@bp.route("/report.xlsx")
@access(read=READERS)
@download
def management_report_xlsx():
    today, locale = clock.today(), _report_locale()
    buffer = io.BytesIO()
    report.workbook(today, locale, buffer)
    audit.record("export", summary=f"management report xlsx ({locale})")
    return send_download(buffer, "xlsx", f"supply-chain-report-{today.isoformat()}-{locale}.xlsx")


@bp.route("/export/<kind>.<any(csv, xlsx):fmt>")
@access(read=READERS)
@download
def export(kind: str, fmt: str):
    if kind not in exports.KINDS:
        abort(404)
    scope = filter_form().scope() if kind == "rollup" else None
    return send_export(
        kind, fmt, lambda buffer: exports.write_kind(kind, clock.today(), buffer, fmt, scope)
    )

"""The server-drawn charts: bars to scale, gaps kept, heat classes by score, data as a table."""

from __future__ import annotations

import re

import pytest
from flask import render_template_string


def render(app, call: str, **context) -> str:
    with app.test_request_context():
        return render_template_string(
            '{% from "charts.html" import bar_chart, line_chart, heat_map %}' + call, **context
        )


def test_bars_are_drawn_to_scale_with_links_and_a_data_table(app):
    rows = [
        {"label": "Critical", "value": 4, "href": "/suppliers/?tier=critical", "cls": "critical"},
        {"label": "High", "value": 2, "href": "/suppliers/?tier=high"},
        {"label": "Unscored", "value": None},
    ]
    html = render(app, "{{ bar_chart(rows, 'By tier') }}", rows=rows)
    widths = [float(w) for w in re.findall(r'<rect class="bar[^"]*"[^>]* width="([\d.]+)"', html)]
    assert widths == [270.0, 135.0, 0]  # the full track (270: the label column takes 200) and half
    assert 'class="bar critical"' in html
    assert html.count('href="/suppliers/?tier=critical"') == 2  # the bar and the table cell
    table = html.split("<table>", 1)[1]
    assert re.search(r"<th scope=\"row\">High</th><td class=\"num\"><a[^>]*>2</a>", table)
    assert '<td class="num">—</td>' in table
    assert "style=" not in html and "<script" not in html


def test_bars_use_a_given_maximum_and_format_fractions(app):
    html = render(
        app,
        "{{ bar_chart(rows, 'Share', unit='%', max_value=100) }}",
        rows=[{"label": "ISMS", "value": 37.25}],
    )
    assert re.search(r'class="bar ?"[^>]* width="100.6"', html)
    assert "37.2%" in html or "37.3%" in html


def test_lines_skip_gaps_and_scale_to_y_max(app):
    html = render(
        app,
        "{{ line_chart(labels, series, 'Trend') }}",
        labels=["2026Q1", "2026Q2", "2026Q3"],
        series=[
            {"name": "Average", "values": [50, None, 100]},
            {"name": "Worst", "values": [0, 25, 50]},
        ],
    )
    first, second = html.split('<g class="series ')[1:3]
    assert first.count("<line") == 0  # no segment across the gap
    assert first.count("<circle") == 2
    assert second.count("<line") == 2
    # y = 200 - value/100 * 188: 100 -> 12, 50 -> 106, 0 -> 200
    assert 'cy="12.0"' in first and 'cy="106.0"' in first
    table = html.split("<table>", 1)[1]
    assert re.search(
        r"<th scope=\"row\">Average</th><td class=\"num\">50</td><td class=\"num\">—</td>", table
    )


@pytest.mark.parametrize(
    ("value", "cls"),
    [
        (0, "heat-0"),
        (19.9, "heat-0"),
        (40, "heat-2"),
        (80, "heat-4"),
        (100, "heat-4"),
        (None, "heat-none"),
    ],
)
def test_heat_cells_are_classed_by_score(app, value, cls):
    html = render(
        app,
        "{{ heat_map(['D1'], rows, 'Heat') }}",
        rows=[{"label": "A社", "href": "/suppliers/1", "cells": [value]}],
    )
    cell = re.search(r"<td class=\"num (heat-[\w]+)\">", html)
    assert cell.group(1) == cls
    assert '<a href="/suppliers/1">A社</a>' in html

"""Staff wording (issue 15): the audit history in words, one word per meaning, internal direction
titles, counts without decimals, in Japanese and English."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from flask_babel import force_locale

from tests.conftest import in_app
from vendorrisk.catalog import catalog
from vendorrisk.i18n.labels import direction_title, label
from vendorrisk.models import AuditEvent, Severity, SupplierStatus
from vendorrisk.scoring.tiers import DEFAULT_TEMPLATE
from vendorrisk.services.reporting import areas
from vendorrisk.vocab import Tier

#: 2027-01-04 01:30:12.345678 UTC is 10:30 in Tokyo.
WHEN = datetime(2027, 1, 4, 1, 30, 12, 345678, tzinfo=UTC)
SCORE_DETAIL = {
    "overall": 86.4,
    "uncapped": 86.4,
    "cap": 40.0,
    "capped": False,
    "critical_failures": [],
    "directives": [
        {"directive": 9, "score": 82.6, "weight_counted": 3.0, "questions": [{"q": "sup-d9-01"}]}
    ],
}


@pytest.fixture
def history(app, make_supplier, make_user):
    """A supplier whose history holds what the log stores: enum values, ids, ISO times, a dict."""
    reviewer = make_user("reviewer", name="田中 誠", email="tanaka@example.com")
    owner = make_user("procurement", name="鈴木 健一", email="suzuki@example.com")
    supplier = make_supplier(tier="high")
    rows = [
        {"changes": {"tier": ["critical", "high"], "owner_id": [None, owner.id]}},
        {
            "object_type": "findings",
            "changes": {"severity": ["medium", "critical"], "status": ["open", "in_progress"]},
        },
        {
            "object_type": "assessments",
            "changes": {
                "completed_at": [None, WHEN.isoformat()],
                "reviewer_id": [None, reviewer.id],
                "score_detail": [None, SCORE_DETAIL],
            },
        },
    ]
    with in_app(app) as session:
        for row in rows:
            session.add(
                AuditEvent(
                    occurred_at=WHEN,
                    actor_type="user",
                    actor_user_id=reviewer.id,
                    actor_label=reviewer.email,
                    action="update",
                    object_type=row.get("object_type", "suppliers"),
                    object_id=supplier.id,
                    supplier_id=supplier.id,
                    changes=row["changes"],
                )
            )
        session.commit()
    return supplier


def _history_html(auth, client, supplier, lang: str) -> str:
    auth.login("admin", locale=lang)
    html = client.get(f"/suppliers/{supplier.id}").get_data(as_text=True)
    return html[html.index('id="history"') :]


def test_the_history_reads_in_japanese(auth, client, history):
    html = _history_html(auth, client, history, "ja")
    assert "リスク区分: 最重要 → 高" in html
    assert "社内担当者: — → 鈴木 健一" in html
    assert "深刻度: 中 → 重大" in html
    assert "対応状況: 未対応 → 対応中" in html
    assert "完了日時: — → 2027/01/04 10:30" in html
    assert "レビュー担当者: — → 田中 誠" in html
    assert "<summary>スコア86.4点 （詳細）</summary>" in html
    assert "指示9 サプライチェーンのセキュリティ対策: 82.6" in html
    assert "田中 誠<br><small>tanaka@example.com</small>" in html  # the actor by name


def test_the_history_reads_in_english(auth, client, history):
    html = _history_html(auth, client, history, "en")
    assert "Risk tier: Critical → High" in html
    assert "Owner: — → 鈴木 健一" in html
    assert "Severity: Medium → Critical" in html
    assert "Completed at: — → 4 Jan 2027 10:30" in html
    assert "<summary>score 86.4 (details)</summary>" in html
    assert "Direction 9: security across the supply chain: 82.6" in html


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_no_raw_value_reaches_the_history(auth, client, history, lang):
    html = _history_html(auth, client, history, lang)
    for raw in (
        "<li>tier:",
        "<li>severity:",
        "score_detail",
        "reviewer_id",
        "in_progress",
        "'overall'",
    ):
        assert raw not in html
    assert not re.search(r"\d{2}:\d{2}:\d{2}", html)  # no seconds, let alone microseconds
    assert "2027-01-04T" not in html and "345678" not in html


def test_the_admin_log_names_users_with_one_query(auth, client, app, make_user, count_queries):
    users = [make_user("reviewer", name=f"担当者{n}") for n in range(6)]
    with in_app(app) as session:
        for n, user in enumerate(users):
            session.add(
                AuditEvent(
                    occurred_at=WHEN,
                    actor_type="user",
                    actor_user_id=user.id,
                    actor_label=user.email,
                    action="update",
                    object_type="findings",
                    object_id=n,
                    changes={"owner_id": [users[n - 1].id, user.id]},
                )
            )
        session.commit()
    auth.login("admin", locale="ja")
    with count_queries() as counter:
        html = client.get("/admin/audit").get_data(as_text=True)
    for user in users:
        assert f"{user.name}<br><small>{user.email}</small>" in html
    names = [s for s in counter.statements if re.search(r"SELECT users\.id, users\.name\s", s)]
    assert len(names) == 1


def test_tier_and_severity_have_different_words(app):
    with app.test_request_context(), force_locale("ja"):
        assert label(Tier.critical) == "最重要"
        assert label(Severity.critical) == "重大"
        assert [label(s) for s in reversed(Severity)] == ["重大", "高", "中", "低"]
    with app.test_request_context(), force_locale("en"):
        assert (label(Tier.critical), label(Severity.critical)) == ("Critical", "Critical")


def test_staff_pages_use_internal_direction_titles(app):
    with app.test_request_context():
        template = catalog().get(DEFAULT_TEMPLATE)
        ja = areas.directive_titles(template, "ja")
        en = areas.directive_titles(template, "en")
    assert ja["9"] == "指示9 サプライチェーンのセキュリティ対策"
    assert en["9"] == "Direction 9: security across the supply chain"
    assert not any(
        "貴社" in title or "your" in title.lower() for title in [*ja.values(), *en.values()]
    )
    with app.test_request_context(), force_locale("ja"):
        assert direction_title(1) == "指示1 リスクの認識と全社の対応方針"


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_the_rollup_never_shows_the_supplier_wording(auth, client, make_supplier, lang):
    make_supplier(status=SupplierStatus.active, tier="high", latest_score=70.0)
    auth.login("ciso", locale=lang)
    html = client.get("/rollup").get_data(as_text=True)
    assert "貴社" not in html and "your own contractors" not in html


def test_counts_print_without_decimals(app):
    page = app.jinja_env.from_string(
        '{% from "charts.html" import count, num %}'
        "{{ count(9.0) }} / {{ count(13.0) }} | {{ num(86.4) }} | {{ num(9.0, whole=true) }}"
    )
    with app.test_request_context():
        assert page.render() == "9 / 13 | 86.4 | 9"


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_long_chart_labels_wrap_instead_of_being_cut(app, lang):
    chart = app.jinja_env.from_string(
        '{% from "charts.html" import bar_chart %}{{ bar_chart(rows, "c") }}'
    )
    with app.test_request_context(), force_locale(lang):
        title = direction_title(4)
        svg = chart.render(rows=[{"label": title, "value": 50.0}])
    lines = re.findall(r"<tspan[^>]*>([^<]*)</tspan>", svg)
    assert "".join(lines).replace(" ", "") == title.replace(" ", "")  # nothing cut
    assert len(lines) <= 2

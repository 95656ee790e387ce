"""What the tests of queued mail share: the configuration and moment every expected file was
written with, a queued row as those files hold it, and the comparison (or rewrite, with
VENDORRISK_WRITE_EXPECTED_MAIL=1)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import time_machine
from flask import Flask

from tests.conftest import in_app
from vendorrisk.models import OutboxMessage

EXPECTED = Path(__file__).parent / "expected"
REWRITE = os.environ.get("VENDORRISK_WRITE_EXPECTED_MAIL") == "1"
#: 10:30 on 1 April 2026 in Tokyo.
NOW = datetime(2026, 4, 1, 1, 30, tzinfo=UTC)
CONFIG = {
    "BASE_URL": "https://vendorrisk.sample.co.jp",
    "COMPANY_NAME_JA": "サンプル商事株式会社",
    "COMPANY_NAME_EN": "Sample Trading Co., Ltd.",
    "TIMEZONE": "Asia/Tokyo",
}


def configured_at_now(app: Flask, monkeypatch: Any) -> Iterator[None]:
    """The body of the `fixed` fixtures: CONFIG set, the clock stopped at NOW."""
    for key, value in CONFIG.items():
        monkeypatch.setitem(app.config, key, value)
    with time_machine.travel(NOW, tick=False):
        yield


def shown(row: OutboxMessage) -> str:
    """The queued mail as the expected files hold it."""
    return (
        f"To: {row.recipient_name} <{row.recipient}>\n"
        f"Subject: {row.subject}\n"
        f"Kind: {row.kind}\n"
        f"Dedupe-Key: {row.dedupe_key}\n"
        f"\n{row.body_text}"
    )


def queued(app: Flask, build_world: Callable, make: Callable, lang: str) -> dict[str, str]:
    """The one mail `make` queues in a fresh world, by file ending (txt, html)."""
    with in_app(app) as session:
        make(build_world(session, lang))
        [row] = session.scalars(sa.select(OutboxMessage)).all()
        return {"txt": shown(row), "html": row.body_html}


def assert_matches_expected(name: str, got: dict[str, str]) -> None:
    """Each ending's text equals `expected/<name>.<ending>` (written first when rewriting)."""
    for ending, text in got.items():
        path = EXPECTED / f"{name}.{ending}"
        if REWRITE:
            path.write_text(text, encoding="utf-8")
        assert text == path.read_text(encoding="utf-8"), path.name

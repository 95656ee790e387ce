"""The header row of every CSV export, in either language, against an expected file.

Scripts and spreadsheets refer to an export's columns by name, so a header changes only on
purpose: then the expected file under expected/ changes in the same commit.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from vendorrisk.models import Role
from vendorrisk.services.reporting import exports

EXPECTED = Path(__file__).parent / "expected"


@pytest.mark.parametrize("lang", ["en", "ja"])
@pytest.mark.parametrize("kind", exports.KINDS)
def test_every_export_header_is_the_expected_one(auth, make_supplier, kind, lang):
    make_supplier()
    auth.login(Role.auditor)
    response = auth.client.get(f"/export/{kind}.csv", headers={"Accept-Language": lang})
    assert response.status_code == 200
    text = response.data.decode("utf-8-sig")
    header = text.split("\r\n", 1)[0]
    expected = (EXPECTED / f"{kind}.header.csv").read_text(encoding="utf-8").strip()
    assert header == expected, f"the {kind} export's header changed (language {lang})"

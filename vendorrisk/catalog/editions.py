"""The editions of the Cybersecurity Management Guidelines a template can follow, and the
vocabularies each edition's mappings use (../shared/reference/guideline-v2.md, guideline-v3.md).

An edition carries what the loader checks a template against: the number of Appendix A check
items of each direction, the NIST CSF version the guideline cites (1.0 for Ver 2.0, 1.1 for
Ver 3.0), the ISO/IEC 27001/27002 edition of its Appendix D (2013, 2022) and whether Appendix D
maps CIS Controls v8 (Ver 3.0 only).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

#: NIST CSF 1.1: every category with its number of subcategories (108 in all).
CSF_1_1 = {
    "ID.AM": 6, "ID.BE": 5, "ID.GV": 4, "ID.RA": 6, "ID.RM": 3, "ID.SC": 5,
    "PR.AC": 7, "PR.AT": 5, "PR.DS": 8, "PR.IP": 12, "PR.MA": 2, "PR.PT": 5,
    "DE.AE": 5, "DE.CM": 8, "DE.DP": 5,
    "RS.RP": 1, "RS.CO": 5, "RS.AN": 5, "RS.MI": 3, "RS.IM": 2,
    "RC.RP": 1, "RC.IM": 2, "RC.CO": 3,
}  # fmt: skip
#: NIST CSF 1.0 (98 subcategories): 1.1 added ID.SC, PR.AC-6/7, PR.DS-8, PR.PT-5 and RS.AN-5.
CSF_1_0 = {
    **{category: n for category, n in CSF_1_1.items() if category != "ID.SC"},
    "PR.AC": 5, "PR.DS": 7, "PR.PT": 4, "RS.AN": 4,
}  # fmt: skip
CSF = {"1.0": CSF_1_0, "1.1": CSF_1_1}
CSF_ID_RE = re.compile(r"^(?P<category>(ID|PR|DE|RS|RC)\.[A-Z]{2})(-(?P<number>\d{1,2}))?$")

#: ISO/IEC 27001 requirements (clauses 4 to 10) and the controls of each edition: the 2013
#: edition's clauses 5 to 18 with their number of control objectives (A.12.1-A.12.7; a control
#: below them, 15.1.1, is accepted), the 2022 edition's four themes with their number of
#: controls (5.1-5.37, 6.1-6.8, 7.1-7.14, 8.1-8.34, nothing below).
ISO_REQUIREMENTS = range(4, 11)
ISO_CONTROLS = {
    "2013": {5: 1, 6: 2, 7: 3, 8: 3, 9: 4, 10: 1, 11: 2, 12: 7, 13: 2, 14: 3, 15: 2, 16: 1,
             17: 2, 18: 2},
    "2022": {5: 37, 6: 8, 7: 14, 8: 34},
}  # fmt: skip
ISO_RE = re.compile(
    r"^(?P<standard>2700[12]):(?P<annex>A\.)?(?P<clause>\d+)(\.(?P<sub>\d+))?(?P<deeper>(\.\d+)*)$"
)
#: CIS Controls v8: 18 controls; a reference names a control ("4") or a safeguard ("4.1").
CIS_RE = re.compile(r"^(?P<control>\d{1,2})(\.\d{1,2})?$")
CIS_CONTROLS = range(1, 19)


@dataclass(frozen=True)
class Edition:
    id: str
    #: How the UI, mails and reports name it, the same in both languages ("Ver 2.0").
    label: str
    #: Appendix A check items per direction (1 to 10).
    items: dict[int, int]
    csf_version: str
    iso_edition: str
    maps_cis: bool
    #: Appendix A-1's items per principle (Ver 3.0 only: three principles of three items).
    principles: dict[int, int] = field(default_factory=dict)

    def csf_problem(self, ident: str, csf_version: str | None = None) -> str | None:
        """Why `ident` is not a category or subcategory of the CSF version, or None."""
        version = csf_version or self.csf_version
        match = CSF_ID_RE.match(ident)
        categories = CSF[version]
        if match and match["category"] in categories:
            number = match["number"]
            if number is None or 1 <= int(number) <= categories[match["category"]]:
                return None
        return f"{ident!r} is not a NIST CSF {version} category or subcategory id"

    def iso_problem(self, clause: str) -> str | None:
        """Why `clause` is not a clause of the edition's ISO/IEC 27001 or 27002, or None."""
        match = ISO_RE.match(clause)
        edition = self.iso_edition
        if match and not (match["standard"] == "27002" and match["annex"]):
            top, controls = int(match["clause"]), ISO_CONTROLS[edition]
            sub = int(match["sub"]) if match["sub"] else None
            if match["standard"] == "27001" and not match["annex"]:
                known = top in ISO_REQUIREMENTS
            else:  # a control: 2022's are n.m, nothing below
                known = top in controls and (sub is None or sub <= controls[top])
                known = known and (edition == "2013" or not match["deeper"])
            if known:
                return None
        return (
            f"{clause!r} is not a clause of ISO/IEC 27001:{edition} or 27002:{edition} "
            f"(for example 27001:6.1.2, 27001:A.{'5.19' if edition == '2022' else '15.1.1'} "
            f"or 27002:{'5.19' if edition == '2022' else '15.1.1'})"
        )

    def cis_problem(self, ref: str) -> str | None:
        if not self.maps_cis:
            return f"the {self.label} edition maps no CIS Controls (mapping.cis is Ver 3.0's)"
        match = CIS_RE.match(ref)
        if match and int(match["control"]) in CIS_CONTROLS:
            return None
        return f"{ref!r} is not a CIS Controls v8 control (1 to 18) or safeguard (such as 4.1)"


EDITIONS = {
    edition.id: edition
    for edition in (
        Edition(
            id="csm-2.0",
            label="Ver 2.0",
            items={1: 3, 2: 3, 3: 5, 4: 5, 5: 6, 6: 4, 7: 6, 8: 4, 9: 3, 10: 2},
            csf_version="1.0",
            iso_edition="2013",
            maps_cis=False,
        ),
        Edition(
            id="csm-3.0",
            label="Ver 3.0",
            items={1: 3, 2: 3, 3: 5, 4: 3, 5: 10, 6: 4, 7: 5, 8: 2, 9: 3, 10: 2},
            csf_version="1.1",
            iso_edition="2022",
            maps_cis=True,
            principles={1: 3, 2: 3, 3: 3},
        ),
    )
}
#: What a template without `edition:` follows: every template before Ver 3.0 was Ver 2.0's.
DEFAULT_EDITION = "csm-2.0"

"""The demo supplier register: realistic, fictional suppliers, one module per category.

Every company, person and number here is made up; web sites and mail addresses use reserved
example domains. Dates are offsets in days from the day the demo is loaded, so the register
always has some overdue re-checks, expired certificates and contracts ending soon.
"""

from __future__ import annotations

from typing import Any

from vendorrisk.demo.suppliers import cloud_services, contractors, group_companies, partners

#: The register, in load order (which numbers the contracts). Contacts are (name, mail local
#: part, department, job title); the first is the primary one. `review` is the next re-check in
#: days from today; country defaults to JP.
SUPPLIERS: tuple[dict[str, Any], ...] = (
    *group_companies.SUPPLIERS,
    *contractors.SUPPLIERS,
    *cloud_services.SUPPLIERS,
    *partners.SUPPLIERS,
)

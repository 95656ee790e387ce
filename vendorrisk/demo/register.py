"""Loading the demo supplier register (demo/suppliers/) with its contacts, contracts and
attestations, through the same service calls as the screens."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

from vendorrisk.demo.suppliers import SUPPLIERS
from vendorrisk.models import Criticality, Role, Supplier, SupplierCategory, SupplierStatus, User
from vendorrisk.services.register import suppliers as supplier_service
from vendorrisk.validation import corporate_number_check_digit
from vendorrisk.vocab import Locale

#: Short names for the supplier's sharing flags used in SUPPLIERS.
SHARING = {
    "personal": "shares_personal_info",
    "confidential": "shares_confidential_info",
    "network": "has_network_access",
    "admin": "has_admin_access",
}

#: Seed of the generator of the (valid, fictional) corporate numbers.
CORPORATE_NUMBER_SEED = 2017


def load_register(users: list[User], today: date) -> None:
    """Create every demo supplier, owned in turn by the procurement users and the admin."""
    owners = [u for u in users if u.role == Role.procurement] + [users[0]]
    numbers = _corporate_numbers()
    for index, spec in enumerate(SUPPLIERS):
        supplier = supplier_service.create_supplier(
            _supplier_fields(spec, today, owners[index % len(owners)], numbers)
        )
        _add_details(supplier, spec, today, reference=f"VR-{index + 1:03d}")


def _corporate_numbers() -> Iterator[str]:
    """Valid, unique, fictional 法人番号: a check digit before twelve seeded random digits."""
    rng = random.Random(CORPORATE_NUMBER_SEED)  # noqa: S311 (demo data, not a secret)  # nosec B311
    seen: set[str] = set()
    while True:
        base = f"{rng.randrange(10**12):012d}"
        if base not in seen:
            seen.add(base)
            yield f"{corporate_number_check_digit(base)}{base}"


def _domain(spec: dict[str, Any]) -> str:
    return spec.get("domain") or f"{spec['slug']}.example.jp"


def _supplier_fields(
    spec: dict[str, Any], today: date, owner: User, numbers: Iterator[str]
) -> dict[str, Any]:
    country = spec.get("country", "JP")
    fields = {
        "name_ja": spec["name_ja"],
        "name_en": spec["name_en"],
        "country": country,
        "corporate_number": next(numbers) if country == "JP" else None,
        "category": SupplierCategory(spec["category"]),
        "status": SupplierStatus(spec.get("status", "active")),
        "criticality": Criticality(spec["criticality"]),
        "owner_id": owner.id,
        "services": spec["services"],
        "website": f"https://www.{_domain(spec)}/",
        "notes": spec.get("notes", ""),
        "next_review_on": _day(today, spec["review"]),
    }
    return fields | {flag: key in spec["sharing"] for key, flag in SHARING.items()}


def _add_details(supplier: Supplier, spec: dict[str, Any], today: date, reference: str) -> None:
    locale = Locale.ja.value if spec.get("country", "JP") == "JP" else Locale.en.value
    for position, (name, local, department, job_title) in enumerate(spec.get("contacts", ())):
        supplier_service.add_contact(
            supplier,
            {
                "name": name,
                "email": f"{local}@{_domain(spec)}",
                "department": department,
                "job_title": job_title,
                "locale": locale,
                "is_primary": position == 0,
            },
        )
    for number, fields in enumerate(spec.get("contracts", ()), start=1):
        fields = _dated(fields, today) | {"reference": f"{reference}-{number:02d}"}
        supplier_service.add_contract(supplier, fields)
    for fields in spec.get("attestations", ()):
        supplier_service.add_attestation(supplier, _dated(fields, today))


#: The fields of the nested records that hold day offsets from today.
_DATE_FIELDS = ("starts_on", "ends_on", "issued_on", "expires_on")


def _dated(fields: dict[str, Any], today: date) -> dict[str, Any]:
    """A copy of a record with its day offsets turned into dates."""
    return fields | {k: _day(today, fields[k]) for k in _DATE_FIELDS if k in fields}


def _day(today: date, offset: int | None) -> date | None:
    return None if offset is None else today + timedelta(days=offset)

"""The sender profile (差出人情報): who writes to suppliers, in every supplier mail and the portal.

A supplier contact reads the company, department and person who ask, and a telephone number to
call to check that a mail is genuine before opening its link (we teach suppliers not to click
unexpected links), with the public page where the company announces its supplier survey. An admin
keeps it in the settings; until then the company name comes from COMPANY_NAME_JA / _EN.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app, g

from vendorrisk.extensions import db
from vendorrisk.models import Setting
from vendorrisk.models import setting as settings_store
from vendorrisk.vocab import Locale

KEY = "sender_profile"
#: The stored fields: those in two languages end in _ja / _en.
BILINGUAL = ("company", "department", "person")
SHARED = ("phone", "email", "announcement_url")
FIELDS = tuple(f"{name}_{lang}" for name in BILINGUAL for lang in ("ja", "en")) + SHARED


@dataclass(frozen=True)
class Sender:
    """The sender in one language."""

    company: str
    department: str
    person: str
    phone: str
    email: str
    announcement_url: str

    @property
    def signature_lines(self) -> list[str]:
        """Company, department, person, then TEL and E-mail: the lines a signature holds."""
        lines = [self.company, self.department, self.person]
        if self.phone:
            lines.append(f"TEL: {self.phone}")
        if self.email:
            lines.append(f"E-mail: {self.email}")
        return [line for line in lines if line]


def stored() -> dict[str, str]:
    """Every field as saved (empty where never set), read once per app context."""
    if "sender_profile" not in g:
        row = db.session.get(Setting, KEY)
        value = row.value if row is not None else {}
        g.sender_profile = {name: str(value.get(name) or "") for name in FIELDS}
    return g.sender_profile


def sender(locale: str) -> Sender:
    """The sender as a reader of `locale` sees it; English falls back to Japanese, and the
    company name to COMPANY_NAME_JA / _EN when the profile has none."""
    values = stored()
    en = locale == Locale.en

    def pick(name: str) -> str:
        ja_value = values[f"{name}_ja"]
        return (values[f"{name}_en"] or ja_value) if en else ja_value

    config = current_app.config
    company = pick("company") or config.get("COMPANY_NAME_EN" if en else "COMPANY_NAME_JA") or ""
    return Sender(
        company=company or "vendorrisk",
        department=pick("department"),
        person=pick("person"),
        phone=values["phone"],
        email=values["email"],
        announcement_url=values["announcement_url"],
    )


def fingerprint() -> str:
    return settings_store.fingerprint(KEY)


def save(values: dict[str, str], seen: str | None = None) -> None:
    """Store the profile (audited as a setting); SettingConflict if someone saved since `seen`."""
    settings_store.save(KEY, {name: (values.get(name) or "").strip() for name in FIELDS}, seen)
    g.pop("sender_profile", None)


def is_set() -> bool:
    """An admin has saved the profile with at least our company's name and a telephone number."""
    values = stored()
    return bool(values["company_ja"] and values["phone"])

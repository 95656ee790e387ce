"""The words every layer shares: the stored values of tiers, levels, outage, replaceability and
languages, written once. Models generate their CHECK constraints from these, forms and imports
their choices, scoring its rules; the values are the ones stored, so they never change.
"""

from __future__ import annotations

from enum import StrEnum


class Tier(StrEnum):
    """A risk tier (重要度), lowest first; inherent risk and the tier rules use the same scale."""

    low = "low"
    medium = "medium"
    high = "high"
    critical = "critical"


class Level(StrEnum):
    """A security level a supplier holds, lowest first: SECURITY ACTION ★1/★2, METI SCS ★3–★5."""

    none = "none"
    star1 = "star1"
    star2 = "star2"
    star3 = "star3"
    star4 = "star4"
    star5 = "star5"


#: The METI SCS evaluation levels (Supplier.scs_level).
SCS_LEVELS = (Level.star3, Level.star4, Level.star5)


class Outage(StrEnum):
    """How long we could bear the supplier stopping."""

    hours = "hours"
    days = "days"
    weeks = "weeks"
    months = "months"


class Replaceability(StrEnum):
    """How easily the supplier could be replaced."""

    easy = "easy"
    moderate = "moderate"
    hard = "hard"


class TierSource(StrEnum):
    """Who set a tier: the rules, or a person (kept until a person changes it)."""

    rule = "rule"
    manual = "manual"


class Locale(StrEnum):
    """The languages of the UI, the mail and the portal; the first is the default."""

    ja = "ja"
    en = "en"


#: The language codes, the default first: what `in` tests and the configuration take.
LOCALES = tuple(locale.value for locale in Locale)

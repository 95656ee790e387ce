"""Pure validators shared by forms, imports and the CLI."""

from __future__ import annotations

import re

CORPORATE_NUMBER_RE = re.compile(r"[0-9]{13}")
SECURITY_ACTION_ID_RE = re.compile(r"[45][0-9]{10}")


def corporate_number_check_digit(base12: str) -> int:
    """The check digit of a 法人番号 from its other twelve digits (NTA's formula)."""
    total = 0
    for position, char in enumerate(reversed(base12), start=1):
        total += int(char) * (1 if position % 2 else 2)
    return 9 - total % 9


def is_valid_corporate_number(value: str) -> bool:
    """True for 13 digits whose first digit is the check digit of the other twelve."""
    if not CORPORATE_NUMBER_RE.fullmatch(value):
        return False
    return int(value[0]) == corporate_number_check_digit(value[1:])


def normalize_corporate_number(value: str) -> str:
    """Drop spaces and hyphens and turn full-width digits into ASCII."""
    table = str.maketrans("０１２３４５６７８９", "0123456789", " -‐－ 　")
    return value.translate(table).strip()


def is_valid_security_action_id(value: str) -> bool:
    """SECURITY ACTION 自己宣言ID: eleven digits beginning with 4 (older) or 5."""
    return bool(SECURITY_ACTION_ID_RE.fullmatch(value))

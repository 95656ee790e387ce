"""What the provider's groups grant a user who signs in through single sign-on: pure functions.

`grant_for` is the one place groups become access. It returns a `Grant`: the role, and, when
groups are mapped to business units (部門), the codes of the user's units.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from vendorrisk.models.user import Role

#: The roles from the most privileged down: a user in several mapped groups gets the first.
#: The admin manages users and settings; the CISO approves risks; procurement edits the
#: register; the reviewer reviews answers; the auditor only reads.
PRIVILEGE_ORDER: tuple[Role, ...] = (
    Role.admin,
    Role.ciso,
    Role.procurement,
    Role.reviewer,
    Role.auditor,
)


@dataclass(frozen=True)
class Grant:
    """What the user's groups give them here."""

    role: Role
    #: Codes of the business units the groups name; None: units are not the provider's to say
    #: (no unit map configured), so an admin keeps them by hand.
    unit_codes: frozenset[str] | None = None


def parse_role_map(text: str) -> dict[str, Role]:
    """ "vr-admins=admin,vr-audit=auditor" as {group: role}; ValueError names a bad pair."""
    mapping: dict[str, Role] = {}
    for pair in (item.strip() for item in (text or "").split(",")):
        if not pair:
            continue
        group, sep, role = (part.strip() for part in pair.rpartition("="))
        if not sep or not group or role not in Role.__members__:
            roles = ", ".join(Role.__members__)
            raise ValueError(f"{pair!r} is not group=role with a role of {roles}")
        if mapping.get(group, Role(role)) is not Role(role):
            raise ValueError(f"group {group!r} is mapped to two roles")
        mapping[group] = Role(role)
    return mapping


def parse_unit_map(text: str) -> dict[str, frozenset[str]]:
    """ "grp-east=JP-EAST,grp-tw=SUB-TW" as {group: {unit codes}} (a group may name several)."""
    mapping: dict[str, set[str]] = {}
    for pair in (item.strip() for item in (text or "").split(",")):
        if not pair:
            continue
        group, sep, code = (part.strip() for part in pair.rpartition("="))
        if not sep or not group or not code:
            raise ValueError(f"{pair!r} is not group=unit code")
        mapping.setdefault(group, set()).add(code)
    return {group: frozenset(codes) for group, codes in mapping.items()}


def groups_of(value: object) -> frozenset[str]:
    """The groups of a claim's value: a list of names (or ids), or one name; else none."""
    if isinstance(value, str):
        return frozenset({value})
    if isinstance(value, list | tuple):
        return frozenset(item for item in value if isinstance(item, str))
    return frozenset()


def grant_for(
    groups: Iterable[str],
    role_map: Mapping[str, Role],
    unit_map: Mapping[str, frozenset[str]] | None = None,
) -> Grant | None:
    """The most privileged role any of `groups` is mapped to, or None (no access); with a unit
    map, also every unit code the groups are mapped to (none: the whole company's suppliers)."""
    groups = frozenset(groups)
    roles = {role_map[group] for group in groups if group in role_map}
    codes = None
    if unit_map:
        codes = frozenset(code for group in groups for code in unit_map.get(group, ()))
    for role in PRIVILEGE_ORDER:
        if role in roles:
            return Grant(role=role, unit_codes=codes)
    return None

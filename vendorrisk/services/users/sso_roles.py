"""What the provider's groups grant a user who signs in through single sign-on: pure functions.

`grant_for` is the one place groups become access. It returns a `Grant` (today only the role),
so that a later change can let groups also name departments without touching the sign-in code.
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


def groups_of(value: object) -> frozenset[str]:
    """The groups of a claim's value: a list of names (or ids), or one name; else none."""
    if isinstance(value, str):
        return frozenset({value})
    if isinstance(value, list | tuple):
        return frozenset(item for item in value if isinstance(item, str))
    return frozenset()


def grant_for(groups: Iterable[str], role_map: Mapping[str, Role]) -> Grant | None:
    """The most privileged role any of `groups` is mapped to, or None (no access)."""
    roles = {role_map[group] for group in groups if group in role_map}
    for role in PRIVILEGE_ORDER:
        if role in roles:
            return Grant(role=role)
    return None

"""The groups-to-role rule of single sign-on: pure, without Flask or a database."""

from __future__ import annotations

import pytest

from vendorrisk.models import Role
from vendorrisk.services.users.sso import identity_from_claims
from vendorrisk.services.users.sso_roles import (
    PRIVILEGE_ORDER,
    Grant,
    grant_for,
    groups_of,
    parse_role_map,
)

MAP = parse_role_map(
    "vr-admins=admin, vr-ciso=ciso,vr-procurement=procurement,"
    "vr-reviewers=reviewer,vr-audit=auditor"
)


def test_the_role_map_is_read_from_group_role_pairs():
    expected = {
        "vr-admins": Role.admin,
        "vr-ciso": Role.ciso,
        "vr-procurement": Role.procurement,
        "vr-reviewers": Role.reviewer,
        "vr-audit": Role.auditor,
    }
    assert expected == MAP
    guid = "7f3c2a9e-41b0-4d2c-9b1e-1234567890ab"  # Entra ID sends group object ids
    assert parse_role_map(f"{guid}=auditor,,") == {guid: Role.auditor}
    assert parse_role_map("") == {}


@pytest.mark.parametrize(
    "text,says",
    [
        ("vr-admins", "group=role"),
        ("vr-admins=root", "root"),
        ("=admin", "group=role"),
        ("g=admin,g=auditor", "two roles"),
    ],
)
def test_a_bad_role_map_is_refused_with_the_pair_named(text, says):
    with pytest.raises(ValueError, match=says):
        parse_role_map(text)


@pytest.mark.parametrize(
    "groups,role",
    [
        (["vr-audit"], Role.auditor),
        (["vr-audit", "vr-reviewers"], Role.reviewer),
        (["vr-reviewers", "vr-procurement", "vr-audit"], Role.procurement),
        (["vr-procurement", "vr-ciso"], Role.ciso),
        (["vr-ciso", "vr-admins", "other"], Role.admin),
    ],
)
def test_the_most_privileged_mapped_role_wins(groups, role):
    assert grant_for(groups, MAP) == Grant(role=role)


def test_no_mapped_group_grants_nothing():
    assert grant_for([], MAP) is None
    assert grant_for(["VR-ADMINS", "vr-admins "], MAP) is None  # names match exactly


def test_every_role_has_its_place_in_the_order():
    assert sorted(PRIVILEGE_ORDER) == sorted(Role)


def test_a_claim_gives_groups_as_a_list_or_one_name():
    assert groups_of(["a", "b", 3]) == {"a", "b"}
    assert groups_of("a") == {"a"}
    assert groups_of(None) == set() and groups_of({"a": 1}) == set()


def test_the_identity_of_entra_id_claims():
    claims = {
        "iss": "https://login.microsoftonline.com/tenant/v2.0",
        "sub": "AAAAAAAAAAAAAAAAAAAAAIkzqFVrSaSaFHy782bbtaQ",
        "preferred_username": "Hanako.Yamada@Example.co.jp",
        "name": " 山田 花子 ",
        "xms_edov": True,
        "groups": ["g1"],
    }
    identity = identity_from_claims(claims, "groups")
    assert identity.email == "hanako.yamada@example.co.jp"
    assert identity.email_verified and identity.name == "山田 花子"
    assert identity.groups == {"g1"}
    unverified = identity_from_claims(
        claims | {"xms_edov": False, "email_verified": "true"}, "roles"
    )
    assert not unverified.email_verified  # only a JSON true counts
    assert unverified.groups == set()


def test_groups_name_business_units_only_when_a_unit_map_is_given():
    from vendorrisk.services.users.sso_roles import parse_unit_map

    units = parse_unit_map("g-east=JP-EAST, g-all=JP-EAST, g-all=JP-WEST")
    assert units == {"g-east": {"JP-EAST"}, "g-all": {"JP-EAST", "JP-WEST"}}
    roles = {"g-proc": Role.procurement}
    assert grant_for(["g-proc", "g-all"], roles).unit_codes is None  # no map: admins decide
    assert grant_for(["g-proc", "g-all"], roles, units).unit_codes == {"JP-EAST", "JP-WEST"}
    assert grant_for(["g-proc"], roles, units).unit_codes == frozenset()
    assert grant_for(["g-east"], roles, units) is None  # a unit alone grants no access
    with pytest.raises(ValueError, match="group=unit code"):
        parse_unit_map("g-east")

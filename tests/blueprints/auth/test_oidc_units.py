"""The provider's groups also give a user their business units (VENDORRISK_OIDC_UNIT_MAP),
against the real provider on loopback, and the units then scope what the user sees."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from tests.conftest import empty_tables
from tests.support.oidc_provider import Person, Provider, running_provider
from tests.support.sso import SignInBrowser, sso_app
from vendorrisk.extensions import db
from vendorrisk.models import BusinessUnit, Supplier, SupplierCategory, UnitMembership, User

BASE_URL = "http://127.0.0.1:5000"
UNIT_MAP = "grp-east=JP-EAST,grp-all=JP-EAST,grp-all=JP-WEST,grp-gone=NO-SUCH-UNIT"


@pytest.fixture(scope="module")
def provider() -> Iterator[Provider]:
    with running_provider() as provider:
        yield provider


@pytest.fixture(scope="module")
def app(tmp_path_factory, provider):
    with sso_app(tmp_path_factory, provider, BASE_URL, OIDC_UNIT_MAP=UNIT_MAP) as app:
        yield app


@pytest.fixture
def world(app) -> Iterator[dict[str, int]]:
    with app.app_context():
        east = BusinessUnit(code="JP-EAST", name="東日本調達部")
        west = BusinessUnit(code="JP-WEST", name="西日本調達部")
        db.session.add_all([east, west])
        db.session.flush()
        made = {}
        for key, unit in (("east", east), ("west", west)):
            supplier = Supplier(name_ja=f"株式会社{key}", category=SupplierCategory.other)
            supplier.unit_id = unit.id
            db.session.add(supplier)
            db.session.flush()
            made[key] = supplier.id
        made |= {"east_unit": east.id, "west_unit": west.id}
        db.session.commit()
        db.session.remove()
    yield made
    with app.app_context():
        db.session.remove()
        with db.engine.begin() as conn:
            empty_tables(conn)


def _units_of(app, email: str) -> set[str]:
    with app.app_context():
        codes = db.session.scalars(
            sa.select(BusinessUnit.code)
            .join(UnitMembership, UnitMembership.unit_id == BusinessUnit.id)
            .join(User, User.id == UnitMembership.user_id)
            .where(User.email == email)
        )
        found = set(codes)
        db.session.remove()
    return found


def test_the_groups_set_the_units_at_every_sign_in_and_scope_the_register(app, provider, world):
    person = provider.add(
        Person("sub-east", "east@example.jp", "東 太郎", ["vr-procurement", "grp-east", "grp-gone"])
    )
    browser = SignInBrowser(app)
    assert browser.sign_in("sub-east").status_code == 302
    assert _units_of(app, "east@example.jp") == {"JP-EAST"}  # an unknown code is left out
    assert browser.client.get(f"/suppliers/{world['east']}").status_code == 200
    assert browser.client.get(f"/suppliers/{world['west']}").status_code == 404
    person.groups = ["vr-procurement", "grp-all"]
    again = SignInBrowser(app)
    assert again.sign_in("sub-east").status_code == 302
    assert _units_of(app, "east@example.jp") == {"JP-EAST", "JP-WEST"}
    assert again.client.get(f"/suppliers/{world['west']}").status_code == 200
    person.groups = ["vr-procurement"]
    assert SignInBrowser(app).sign_in("sub-east").status_code == 302
    assert _units_of(app, "east@example.jp") == set()  # no unit group: none (the provider says)

"""The whole demo, loaded in order: users, the supplier register, reviews and findings, the
roll-up history and the self-assessment cycles. Dates are relative to the day it is loaded."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from vendorrisk.demo import history, register, reviews, selfassessment
from vendorrisk.extensions import db
from vendorrisk.models import Role, Supplier, User
from vendorrisk.services.users import units
from vendorrisk.services.users.accounts import create_user

#: Two business units, one for each procurement user: each sees the suppliers they own (and
#: those owned by others, which stay the whole company's); the reviewer works for both.
UNITS = (
    ("JP-EAST", "東日本調達部", "East Japan procurement", "procurement1@example.com"),
    ("JP-WEST", "西日本調達部", "West Japan procurement", "procurement2@example.com"),
)

#: The demo users, admin first: (email, role, name, locale).
USERS = (
    ("admin@example.com", Role.admin, "山田 太郎", "ja"),
    ("ciso@example.com", Role.ciso, "佐藤 恵子", "ja"),
    ("procurement1@example.com", Role.procurement, "鈴木 健一", "ja"),
    ("procurement2@example.com", Role.procurement, "高橋 美咲", "ja"),
    ("reviewer@example.com", Role.reviewer, "田中 誠", "ja"),
    ("auditor@example.com", Role.auditor, "伊藤 直子", "ja"),
)


def load_demo(today: date) -> list[tuple[str, str, str]]:
    """Load the whole demo; return each user's (email, role, one-time password), admin first."""
    users, logins = _create_users()
    register.load_register(users, today)
    _units(users)
    reviews.profiles_and_reviews(users, today)
    reviews.findings(users, today)
    reviews.send_packs(today)
    history.seed_history(today)
    selfassessment.seed_cycles(users, today)
    return logins


def _create_users() -> tuple[list[User], list[tuple[str, str, str]]]:
    users, logins = [], []
    for email, role, name, locale in USERS:
        user, password = create_user(email, role, name=name, locale=locale)
        users.append(user)
        logins.append((user.email, role.value, password))
    return users, logins


def _units(users: list[User]) -> None:
    by_email = {u.email: u for u in users}
    made = []
    for code, name, name_en, email in UNITS:
        unit = units.save_unit(None, {"code": code, "name": name, "name_en": name_en})
        owner = by_email[email]
        units.set_units(owner, [unit.id])
        db.session.execute(
            sa.update(Supplier).where(Supplier.owner_id == owner.id).values(unit_id=unit.id)
        )
        made.append(unit.id)
    units.set_units(by_email["reviewer@example.com"], made)

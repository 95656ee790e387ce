"""The whole demo, loaded in order: users, the supplier register, reviews and findings, the
roll-up history and the self-assessment cycles. Dates are relative to the day it is loaded."""

from __future__ import annotations

from datetime import date

from vendorrisk.demo import history, register, reviews, selfassessment
from vendorrisk.models import Role, User
from vendorrisk.services.users.accounts import create_user

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

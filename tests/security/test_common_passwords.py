"""Row 4 of issue 13: a common or leaked password, or one holding the user's own email, is
refused wherever a password is chosen (change, reset link, the services behind create/reset)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tests.conftest import PASSWORD
from vendorrisk.models import Role, User
from vendorrisk.services.users import accounts

#: What attackers try first: the top of every leaked-password list and its usual variants,
#: each at least 12 characters long, so that the length rule alone lets them through.
COMMON = [
    "password1234",
    "123456789012",
    "P@ssw0rd1234",
    "qwertyuiop12",
    "iloveyou2024",
    "passwordpassword",
    "111111111111",
]


def change(client, new: str, lang: str = "en"):
    return client.post(
        "/auth/password",
        data={"current": PASSWORD, "new": new, "confirm": new},
        headers={"Accept-Language": lang},
    )


def stored_hash(ctx, user_id: int) -> str:
    with ctx() as session:
        return session.scalar(sa.select(User.password_hash).where(User.id == user_id))


@pytest.mark.parametrize("common", COMMON)
def test_a_common_password_is_refused_on_change(auth, ctx, common):
    user = auth.login(Role.reviewer)
    before = stored_hash(ctx, user.id)

    response = change(auth.client, common)

    assert response.status_code == 200
    assert "This password is too common or too easy to guess" in response.get_data(as_text=True)
    assert stored_hash(ctx, user.id) == before


def test_the_refusal_is_in_japanese_too(auth):
    auth.login(Role.reviewer)
    response = change(auth.client, "password1234", lang="ja")
    assert "推測されやすい" in response.get_data(as_text=True)


def test_a_password_holding_the_email_local_part_is_refused(auth, ctx):
    user = auth.login(Role.ciso, email="tanaka.ichiro@example.co.jp")
    before = stored_hash(ctx, user.id)

    response = change(auth.client, "Tanaka.Ichiro-Kyoto-2026")

    assert "must not contain your email address" in response.get_data(as_text=True)
    assert stored_hash(ctx, user.id) == before


def test_a_long_phrase_is_accepted(auth, ctx):
    user = auth.login(Role.reviewer)
    assert change(auth.client, "violet harbour tram sixteen").status_code == 302
    with ctx() as session:
        assert accounts.verify_password(session.get(User, user.id), "violet harbour tram sixteen")


def test_the_service_refuses_a_common_password_whatever_the_form(app, make_user, ctx):
    """A caller that skips the form (another view, the CLI) meets the same policy."""
    user = make_user(Role.reviewer)
    with app.app_context():
        row = accounts.find_by_email(user.email)
        with pytest.raises(accounts.UserError):
            accounts.change_password(row, PASSWORD, "password1234")
        with pytest.raises(accounts.UserError):
            accounts.set_password(row, "123456789012")
        with pytest.raises(accounts.UserError):
            accounts.hash_password("qwertyuiop12")


def test_issued_one_time_passwords_pass_the_policy(app):
    """create-user and an admin's reset issue random passwords, checked by the same policy."""
    with app.app_context():
        user, password = accounts.create_user("new.person@example.com", Role.reviewer)
        accounts.check_password_policy(password, user.email, user.name)
        accounts.check_password_policy(accounts.reset_password(user), user.email, user.name)

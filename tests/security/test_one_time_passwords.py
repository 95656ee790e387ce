"""Row 7 of issue 13 (last part): one-time passwords from `create-user` and an admin's reset
expire (ONE_TIME_PASSWORD_HOURS, 72 by default); an expired one is refused, and audited."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
import time_machine

from vendorrisk.models import AuditEvent, Role

#: When the one-time password is issued (a fixed moment; the expiry runs from it).
ISSUED = datetime(2026, 6, 1, 0, 0, tzinfo=UTC)


def create_user(runner, email: str) -> str:
    """`vendorrisk create-user`; the one-time password it prints."""
    result = runner.invoke(args=["create-user", "--email", email, "--role", "ciso"])
    return re.search(r"One-time password: (\S+)", result.output).group(1)


def log_in(client, email: str, password: str):
    return client.post(
        "/auth/login",
        data={"email": email, "password": password},
        headers={"Accept-Language": "en"},
    )


def test_an_old_one_time_password_from_create_user_is_refused(app, runner, client, ctx):
    with time_machine.travel(ISSUED, tick=False):
        one_time = create_user(runner, "late@example.com")

    with time_machine.travel(ISSUED + timedelta(hours=72), tick=False):
        response = log_in(client, "late@example.com", one_time)

    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Your one-time password has expired. Please ask an administrator" in page
    with client.session_transaction() as sess:
        assert "_user_id" not in sess  # not logged in
    with ctx() as session:
        event = session.scalar(
            sa.select(AuditEvent).where(AuditEvent.action == "login_expired_password")
        )
    assert event.summary == "late@example.com"


def test_a_one_time_password_works_until_it_expires(app, runner, client):
    with time_machine.travel(ISSUED, tick=False):
        one_time = create_user(runner, "new@example.com")
    with time_machine.travel(ISSUED + timedelta(hours=71, minutes=59), tick=False):
        assert log_in(client, "new@example.com", one_time).status_code == 302


def test_an_admins_reset_password_expires_too(app, auth, make_user, ctx):
    target = make_user(Role.reviewer)
    with time_machine.travel(ISSUED, tick=False):
        auth.login(Role.admin)
        page = auth.client.post(f"/admin/users/{target.id}/reset").get_data(as_text=True)
    one_time = re.search(r'<p class="secret"><code>([^<]+)</code>', page).group(1)
    assert "2026-06-04 09:00" in page  # the admin is told when it expires (Tokyo time)

    with time_machine.travel(ISSUED + timedelta(hours=73), tick=False):
        response = log_in(auth.client.application.test_client(), target.email, one_time)
    assert "Your one-time password has expired" in response.get_data(as_text=True)


def test_a_password_the_user_chose_never_expires(app, runner, client):
    with time_machine.travel(ISSUED, tick=False):
        one_time = create_user(runner, "own@example.com")
        log_in(client, "own@example.com", one_time)
        mine = "violet harbour tram sixteen"
        client.post("/auth/password", data={"current": one_time, "new": mine, "confirm": mine})
        client.post("/auth/logout")
    with time_machine.travel(ISSUED + timedelta(days=400), tick=False):
        assert log_in(client, "own@example.com", mine).status_code == 302

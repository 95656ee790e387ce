"""Staff sessions, attacked: a session left open on a shared or stolen laptop, and a user who
must be able to throw an intruder out of their account.

ASVS 5.0: 7.3.1 (inactivity timeout), 7.4.1 (an ended session cannot be resumed), 7.5.2 (users
see and, with their password, end their other sessions), 7.1.2 (many sessions, each listed).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient

from tests.conftest import PASSWORD
from vendorrisk import clock
from vendorrisk.models import AuditEvent, Role, User, UserSession

EN = {"Accept-Language": "en"}
CHROME = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/131.0 Safari/537"


def _browser(app, user: User, address: str = "127.0.0.1", agent: str = CHROME) -> FlaskClient:
    client = app.test_client()
    client.environ_base.update({"REMOTE_ADDR": address, "HTTP_USER_AGENT": agent})
    response = client.post("/auth/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 302
    return client


def _logged_in(client: FlaskClient) -> bool:
    response = client.get("/suppliers/")
    if response.status_code == 302:
        assert "/auth/login" in response.headers["Location"]
        return False
    assert response.status_code == 200
    return True


def _session_rows(ctx, user: User) -> list[UserSession]:
    with ctx() as session:
        return list(
            session.scalars(
                sa.select(UserSession)
                .where(UserSession.user_id == user.id)
                .order_by(UserSession.id)
            )
        )


def _set_last_seen(ctx, row_id: int, ago: timedelta) -> None:
    with ctx() as session:
        row = session.get(UserSession, row_id)
        row.created_at = row.last_seen_at = clock.now() - ago
        session.commit()


@pytest.fixture
def user(make_user) -> User:
    return make_user(Role.reviewer)


def test_a_session_left_idle_is_refused(app, ctx, user):
    laptop = _browser(app, user)
    [row] = _session_rows(ctx, user)
    _set_last_seen(ctx, row.id, timedelta(minutes=31))
    assert not _logged_in(laptop)  # the absolute lifetime (12 h) is far off: idleness ends it
    # And the cookie is worth nothing afterwards, even right away.
    assert not _logged_in(laptop)


def test_a_session_in_use_stays_open_and_is_seen_at_most_once_a_minute(app, ctx, user):
    desk = _browser(app, user)
    [row] = _session_rows(ctx, user)
    _set_last_seen(ctx, row.id, timedelta(minutes=29))
    assert _logged_in(desk)
    [seen] = _session_rows(ctx, user)
    assert clock.now() - seen.last_seen_at < timedelta(seconds=30)  # moved on, and committed
    assert _logged_in(desk)
    assert _session_rows(ctx, user)[0].last_seen_at == seen.last_seen_at  # no write this time


def test_the_idle_time_is_a_setting(app, ctx, user):
    app.config["SESSION_IDLE_MINUTES"] = 5
    try:
        desk = _browser(app, user)
        [row] = _session_rows(ctx, user)
        _set_last_seen(ctx, row.id, timedelta(minutes=6))
        assert not _logged_in(desk)
    finally:
        app.config["SESSION_IDLE_MINUTES"] = 30


def test_the_sessions_page_lists_each_login(app, ctx, user):
    here = _browser(app, user)
    _browser(app, user, address="203.0.113.7", agent="Mozilla/5.0 (iPhone) Safari/604.1")
    page = here.get("/auth/sessions", headers=EN).get_data(as_text=True)
    assert "203.0.113.7" in page and "Safari on iOS" in page and "Chrome on Windows" in page
    assert page.count("This browser") == 1
    assert page.count('name="end" value="') == 2  # one "end" (the other login) and "end all"


def test_ending_another_session_logs_that_browser_out(app, ctx, user):
    owner = _browser(app, user)
    intruder = _browser(app, user, address="198.51.100.9")
    theirs = _session_rows(ctx, user)[1]
    # Without the password (a stolen session alone) nothing ends.
    refused = owner.post("/auth/sessions", data={"end": str(theirs.id), "password": "guess"})
    assert refused.status_code == 400
    assert _logged_in(intruder)
    response = owner.post("/auth/sessions", data={"end": str(theirs.id), "password": PASSWORD})
    assert response.status_code == 302
    assert not _logged_in(intruder)
    assert _logged_in(owner)
    with ctx() as session:
        [event] = session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "session_ended"))
        assert "198.51.100.9" in event.summary and event.actor_label == user.email


def test_a_session_of_someone_else_cannot_be_ended(app, ctx, user, make_user):
    victim = make_user(Role.ciso)
    victim_browser = _browser(app, victim)
    [their_row] = _session_rows(ctx, victim)
    attacker = _browser(app, user)
    attacker.post("/auth/sessions", data={"end": str(their_row.id), "password": PASSWORD})
    assert _logged_in(victim_browser)
    assert _session_rows(ctx, victim)[0].revoked_at is None


def test_end_all_other_sessions(app, ctx, user):
    owner = _browser(app, user)
    others = [_browser(app, user, address=f"192.0.2.{n}") for n in (1, 2)]
    response = owner.post("/auth/sessions", data={"end": "others", "password": PASSWORD})
    assert response.status_code == 302
    assert [_logged_in(browser) for browser in others] == [False, False]
    assert _logged_in(owner)
    with ctx() as session:
        [event] = session.scalars(
            sa.select(AuditEvent).where(AuditEvent.action == "sessions_ended")
        )
        assert event.summary == f"{user.email} (2)"

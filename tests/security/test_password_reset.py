"""Password reset by e-mail for staff (issue 13, "What to build"): the link is single-use,
short-lived and stored only as its hash; asking tells nothing about which addresses have
accounts; using it sets a password the policy accepts and ends every other session."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
import time_machine

from tests.conftest import PASSWORD, body_of, strict_app
from vendorrisk.extensions import db
from vendorrisk.models import AuditEvent, OutboxMessage, PasswordReset, Role, UserSession
from vendorrisk.models.mixins import hash_token
from vendorrisk.services.users import accounts, reset

NEW = "violet harbour tram sixteen"
#: A fixed moment for the expiry tests.
ASKED = datetime(2026, 6, 1, 0, 0, tzinfo=UTC)
RESET_LINK = re.compile(r"https?://\S+/auth/reset/([A-Za-z0-9_-]{40,})")


def ask(client, email: str):
    return client.post("/auth/forgot", data={"email": email}, headers={"Accept-Language": "en"})


def link_of(message) -> tuple[str, str]:
    """The path and the token of the reset link in a delivered mail."""
    match = RESET_LINK.search(body_of(message))
    assert match, body_of(message)
    return match.group(0).split("/auth/", 1)[1], match.group(1)


def set_password(client, path: str, password: str = NEW):
    return client.post(
        f"/auth/{path}",
        data={"new": password, "confirm": password},
        headers={"Accept-Language": "en"},
    )


def logged_in(app, email: str):
    browser = app.test_client()
    response = browser.post("/auth/login", data={"email": email, "password": PASSWORD})
    assert response.status_code == 302
    return browser


def test_the_reset_link_sets_a_new_password_once_and_ends_every_other_session(
    app, client, make_user, smtp_server, ctx
):
    user = make_user(Role.ciso)
    office, laptop = logged_in(app, user.email), logged_in(app, user.email)

    assert ask(client, user.email).status_code == 302
    [mail] = smtp_server.messages
    assert mail["To"].addresses[0].addr_spec == user.email
    path, token = link_of(mail)
    assert client.get(f"/auth/{path}").status_code == 200
    assert set_password(client, path).status_code == 302
    # the link logs no one in: the login (and its second factor, where set) comes next
    assert "/auth/login" in client.get("/suppliers/").headers["Location"]

    # every session opened with the old password has ended
    for browser in (office, laptop):
        assert "/auth/login" in browser.get("/suppliers/").headers["Location"]
    # the new password works, the old one does not
    fresh = app.test_client()
    for password, status in ((PASSWORD, 200), (NEW, 302)):
        login = {"email": user.email, "password": password}
        assert fresh.post("/auth/login", data=login).status_code == status
    # an attacker who finds the link later (a mail archive, a log) gets nothing
    replay = set_password(app.test_client(), path, "another fine long phrase")
    assert replay.status_code == 410
    assert "no longer valid" in replay.get_data(as_text=True)
    with ctx() as session:
        assert (
            session.scalar(
                sa.select(sa.func.count())
                .select_from(UserSession)
                .where(UserSession.user_id == user.id, UserSession.revoked_at.is_(None))
            )
            == 1
        )  # the fresh login only
        event = session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "password_reset"))
        assert (event.object_type, event.object_id) == ("users", user.id)
        # the token is kept only as its hash, and is gone from the delivered mail's copy
        row = session.scalar(sa.select(PasswordReset))
        assert row.token_hash == hash_token(token) and row.used_at is not None
        outbox = session.scalar(sa.select(OutboxMessage))
        assert token not in outbox.body_text and token not in outbox.body_html


def test_an_unknown_address_gets_the_same_answer_and_no_mail(app, make_user, smtp_server, ctx):
    user = make_user(Role.reviewer)
    known, unknown = app.test_client(), app.test_client()

    answers = [ask(known, user.email), ask(unknown, "nobody@example.com")]

    assert [a.status_code for a in answers] == [302, 302]
    assert answers[0].headers["Location"] == answers[1].headers["Location"]
    pages = [c.get("/auth/login", headers={"Accept-Language": "en"}) for c in (known, unknown)]
    shown = [re.sub(r'value="[^"]*"', "", p.get_data(as_text=True)) for p in pages]
    assert shown[0] == shown[1]
    assert "If this address belongs to an account, a link" in shown[0]
    assert [m["To"].addresses[0].addr_spec for m in smtp_server.messages] == [user.email]
    with ctx() as session:
        asked = session.scalars(
            sa.select(AuditEvent.summary).where(AuditEvent.action == "password_reset_requested")
        ).all()
    assert sorted(asked) == sorted([user.email, "nobody@example.com"])


def test_the_answer_is_sent_before_the_address_is_looked_up(app, make_user, count_queries):
    """The same time for any address, without timing anything: until the response has gone
    out, the database hears the same statements, none about users, whatever the address."""
    user = make_user(Role.reviewer)
    heard = []
    for email in (user.email, "nobody@example.com"):
        with count_queries() as counter:
            response = app.test_client().post("/auth/forgot", data={"email": email}, buffered=False)
            heard.append(list(counter.statements))
        response.close()  # now the link is made and mailed, for the known address only
    assert heard[0] == heard[1]
    assert not any("users" in statement for statement in heard[0])


def test_an_inactive_account_gets_no_link(app, make_user, smtp_server):
    user = make_user(Role.reviewer, active=False)
    assert ask(app.test_client(), user.email).status_code == 302
    assert smtp_server.messages == []


def _asked_at(app, email: str, moment: datetime) -> str:
    """Ask for a link at `moment` through the service; returns its token (from the outbox)."""
    with app.app_context(), time_machine.travel(moment, tick=False):
        reset.request_reset(email, "192.0.2.1", now=moment)
        db.session.commit()
        body = db.session.scalars(
            sa.select(OutboxMessage.body_text).order_by(OutboxMessage.id.desc())
        ).first()
        db.session.remove()
    return RESET_LINK.search(body).group(1)


def test_the_link_expires_after_thirty_minutes(app, make_user, ctx):
    user = make_user(Role.reviewer)
    token = _asked_at(app, user.email, ASKED)
    with app.app_context():
        assert reset.usable(token, ASKED + timedelta(minutes=29)) is not None
        assert reset.usable(token, ASKED + timedelta(minutes=30)) is None
        with pytest.raises(accounts.UserError):
            reset.complete(token, NEW, now=ASKED + timedelta(minutes=31))
    with time_machine.travel(ASKED + timedelta(minutes=31), tick=False):
        assert app.test_client().get(f"/auth/reset/{token}").status_code == 410


def test_a_newer_link_replaces_the_older_one(app, make_user):
    user = make_user(Role.reviewer)
    older = _asked_at(app, user.email, ASKED)
    newer = _asked_at(app, user.email, ASKED + timedelta(minutes=5))
    with app.app_context():
        at = ASKED + timedelta(minutes=6)
        assert reset.usable(older, at) is None
        assert reset.usable(newer, at) is not None


def test_a_forged_token_opens_nothing(client):
    response = client.get("/auth/reset/" + "A" * 43, headers={"Accept-Language": "en"})
    assert response.status_code == 410


def test_the_link_refuses_a_common_password_and_stays_usable(app, make_user):
    user = make_user(Role.reviewer)
    token = _asked_at(app, user.email, datetime.now(UTC))
    browser = app.test_client()
    refused = set_password(browser, f"reset/{token}", "password1234")
    assert refused.status_code == 200
    assert "too common or too easy to guess" in refused.get_data(as_text=True)
    assert set_password(browser, f"reset/{token}").status_code == 302


@pytest.fixture(scope="module")
def limited(tmp_path_factory):
    with strict_app(tmp_path_factory) as app:
        yield app


def test_asking_again_and_again_is_rate_limited_for_any_address(limited):
    """Mail bombing one address (known or not) stops after three an hour, from any address."""
    client = limited.test_client()
    codes = [
        client.post(
            "/auth/forgot",
            data={"email": "whoever@example.com"},
            environ_base={"REMOTE_ADDR": f"192.0.2.{n}"},
        ).status_code
        for n in range(4)
    ]
    assert codes == [302, 302, 302, 429]

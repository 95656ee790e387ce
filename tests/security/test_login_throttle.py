"""Row 2 of issue 13: an attacker hammering a staff account must not lock its owner out.

Failed logins only are counted, per account, per address and per both, with a growing delay
(vendorrisk/services/users/throttle.py). Each test is the attack: what the attacker sends, and
what they (and the owner) get.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
import time_machine

from tests.conftest import PASSWORD, strict_app
from vendorrisk.extensions import db
from vendorrisk.models import AuditEvent, Role, User
from vendorrisk.services.users import accounts

OWNER_ADDRESS = "198.51.100.7"
ATTACKER = "203.0.113.66"
#: A fixed moment for the tests that wait out a delay (the delays run from it).
T0 = datetime(2026, 6, 1, 0, 0, tzinfo=UTC)


def post_login(client, email: str, password: str, address: str):
    return client.post(
        "/auth/login",
        data={"email": email, "password": password},
        environ_base={"REMOTE_ADDR": address},
        headers={"Accept-Language": "en"},
    )


def owner_logged_in_before(client, email: str) -> None:
    """The owner's usual address: they logged in from it before (and logged out)."""
    assert post_login(client, email, PASSWORD, OWNER_ADDRESS).status_code == 302
    client.post("/auth/logout", environ_base={"REMOTE_ADDR": OWNER_ADDRESS})


def hammer(app, email: str, times: int, addresses: list[str]) -> list[int]:
    attacker = app.test_client()
    return [
        post_login(attacker, email, f"guess number {i}", addresses[i % len(addresses)]).status_code
        for i in range(times)
    ]


def fail_for_real(app, email: str, times: int, addresses: list[str], start: datetime) -> datetime:
    """The patient attacker: `times` wrong passwords actually checked, each delay waited out
    (five minutes at a time); returns the moment of the last failure."""
    attacker, moment, failed = app.test_client(), start, 0
    while failed < times:
        with time_machine.travel(moment, tick=False):
            address = addresses[failed % len(addresses)]
            code = post_login(attacker, email, f"guess number {failed}", address).status_code
        if code == 200:
            failed += 1
        else:
            moment += timedelta(minutes=5)
    return moment


def events(ctx, action: str) -> list[AuditEvent]:
    with ctx() as session:
        return session.scalars(
            sa.select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
        ).all()


def test_thirty_failures_from_one_address_leave_the_owner_their_usual_address(
    app, client, make_user
):
    owner = make_user(Role.ciso)
    with time_machine.travel(T0 - timedelta(days=1), tick=False):
        owner_logged_in_before(client, owner.email)

    last = fail_for_real(app, owner.email, 30, [ATTACKER], T0)

    with time_machine.travel(last, tick=False):
        # the attacker's address waits 15 minutes; the owner's right password works at once
        assert post_login(app.test_client(), owner.email, PASSWORD, ATTACKER).status_code == 429
        assert post_login(client, owner.email, PASSWORD, OWNER_ADDRESS).status_code == 302


def test_thirty_failures_from_a_botnet_delay_a_new_address_until_the_delay_passes(
    app, client, make_user
):
    """Thirty addresses, one wrong password each: the owner's usual address still works; a new
    address of the owner's waits out the account's delay (at most 15 minutes)."""
    owner = make_user(Role.ciso)
    with time_machine.travel(T0 - timedelta(days=1), tick=False):
        owner_logged_in_before(client, owner.email)
    botnet = [f"203.0.113.{n}" for n in range(10, 40)]

    last = fail_for_real(app, owner.email, 30, botnet, T0)

    hotel = app.test_client()
    with time_machine.travel(last, tick=False):
        refused = post_login(hotel, owner.email, PASSWORD, "192.0.2.44")
        assert refused.status_code == 429
        assert "Please wait 15 minutes" in refused.get_data(as_text=True)
        assert post_login(client, owner.email, PASSWORD, OWNER_ADDRESS).status_code == 302
    with time_machine.travel(last + timedelta(minutes=15), tick=False):
        assert post_login(hotel, owner.email, PASSWORD, "192.0.2.44").status_code == 302


def test_throttled_attempts_are_refused_at_once(app, make_user):
    owner = make_user(Role.ciso)
    codes = hammer(app, owner.email, 30, [ATTACKER])
    assert codes[:5] == [200] * 5  # five guesses, then each further one waits
    assert codes[5:] == [429] * 25


def test_a_throttled_attempt_checks_no_password_and_is_audited(app, make_user, ctx):
    owner = make_user(Role.admin)
    hammer(app, owner.email, 5, [ATTACKER])
    attacker = app.test_client()

    # Even the right password is refused while the attacker's address waits: no oracle.
    response = post_login(attacker, owner.email, PASSWORD, ATTACKER)

    assert response.status_code == 429
    page = response.get_data(as_text=True)
    assert "Too many failed logins for this account. Please wait 1 minutes" in page
    assert "ask an administrator to unlock it" in page
    [event] = events(ctx, "login_throttled")
    assert (event.ip, event.changes["account"], event.changes["address"]) == (
        ATTACKER,
        owner.email,
        ATTACKER,
    )
    assert owner.email in event.summary and ATTACKER in event.summary
    assert len(events(ctx, "login_failed")) == 5  # the throttled one was not counted


def test_the_message_is_in_japanese_too(app, make_user):
    owner = make_user(Role.reviewer)
    hammer(app, owner.email, 5, [ATTACKER])
    response = app.test_client().post(
        "/auth/login",
        data={"email": owner.email, "password": "one more guess"},
        environ_base={"REMOTE_ADDR": ATTACKER},
        headers={"Accept-Language": "ja"},
    )
    assert response.status_code == 429
    assert "管理者" in response.get_data(as_text=True)


def test_an_unknown_account_is_throttled_just_like_a_real_one(app, make_user):
    """The delay must not tell which addresses have accounts."""
    owner = make_user(Role.reviewer)
    assert hammer(app, owner.email, 7, [ATTACKER]) == hammer(
        app, "nobody@example.com", 7, ["203.0.113.67"]
    )


def test_the_delay_grows_with_each_failure_up_to_fifteen_minutes(app, make_user):
    owner = make_user(Role.procurement)
    attacker = app.test_client()
    waits, moment = [], T0
    for _ in range(12):
        while True:  # the attacker tries again every 10 seconds until let through
            with time_machine.travel(moment, tick=False):
                response = post_login(attacker, owner.email, "still guessing", ATTACKER)
            if response.status_code != 429:
                break
            moment += timedelta(seconds=10)
        waits.append(moment)
        moment += timedelta(seconds=10)
    gaps = [(b - a).total_seconds() for a, b in zip(waits, waits[1:], strict=False)]
    assert gaps[:4] == [10, 10, 10, 10]  # five free guesses
    assert gaps[4:] == [30, 60, 120, 240, 480, 900, 900]  # 30 s doubling, capped at 15 min


def test_a_success_starts_the_count_afresh(app, client, make_user):
    owner = make_user(Role.reviewer)
    hammer(app, owner.email, 4, [OWNER_ADDRESS])  # the owner mistyped four times
    assert post_login(client, owner.email, PASSWORD, OWNER_ADDRESS).status_code == 302
    client.post("/auth/logout", environ_base={"REMOTE_ADDR": OWNER_ADDRESS})
    assert hammer(app, owner.email, 5, ["192.0.2.9"]) == [200] * 5


def test_an_admin_unlocks_the_account_and_it_is_audited(app, client, make_user, auth, ctx):
    owner = make_user(Role.reviewer)
    hammer(app, owner.email, 30, [ATTACKER, "203.0.113.67"])
    assert post_login(client, owner.email, PASSWORD, "192.0.2.44").status_code == 429

    auth.login(Role.admin)
    page = auth.client.get(f"/admin/users/{owner.id}", headers={"Accept-Language": "en"})
    assert "logins to this account are delayed until" in page.get_data(as_text=True)
    audit_page = auth.client.get("/admin/audit?action=login_throttled")
    assert audit_page.status_code == 200 and "203.0.113.67" in audit_page.get_data(as_text=True)
    response = auth.client.post(f"/admin/users/{owner.id}/unlock")

    assert response.status_code == 302
    [event] = events(ctx, "login_unlocked")
    assert (event.object_type, event.object_id, event.actor_label) == (
        "users",
        owner.id,
        auth.user.email,
    )
    assert post_login(client, owner.email, PASSWORD, "192.0.2.44").status_code == 302


def test_only_an_admin_may_unlock(app, make_user, auth, ctx):
    owner = make_user(Role.reviewer)
    hammer(app, owner.email, 6, [ATTACKER])
    auth.login(Role.ciso)
    assert auth.client.post(f"/admin/users/{owner.id}/unlock").status_code == 403
    assert events(ctx, "login_unlocked") == []


@pytest.fixture(scope="module")
def limited(tmp_path_factory):
    """Rate limits on, as in production (the flood limit of 10 a minute per address)."""
    with strict_app(tmp_path_factory) as app:
        yield app


def test_with_every_limit_on_thirty_failures_do_not_shut_the_owner_out(limited):
    """The report's attack: wrong passwords from three addresses, inside the per-address flood
    limit; the owner's right password from their usual address must still get in."""
    with limited.app_context():
        user, _ = accounts.create_user("victim@example.com", Role.ciso)
        user.password_hash = accounts.hash_password(PASSWORD)
        user.must_change_password = False
        user.password_expires_at = None
        db.session.commit()
    owner = limited.test_client()
    owner_logged_in_before(owner, "victim@example.com")

    codes = hammer(limited, "victim@example.com", 30, [ATTACKER, "203.0.113.67", "203.0.113.68"])

    assert 429 in codes
    assert post_login(owner, "victim@example.com", PASSWORD, OWNER_ADDRESS).status_code == 302
    with limited.app_context():
        last_login = db.session.scalar(
            sa.select(User.last_login_at).where(User.email == "victim@example.com")
        )
        assert last_login is not None

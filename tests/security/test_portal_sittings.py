"""Issue 13 row 6, as the attacker tries it: a portal sitting or an emailed link used by someone
who only copied it — a sitting cookie after "finish" or after idle time, a link token read from an
access log, a logged link replayed from another browser — and a contact who loses nothing.

Time is moved by writing the sitting's timestamps (never by sleeping).
"""

from __future__ import annotations

import os
import re
import secrets
import signal
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from tests.conftest import _free_port, link_in
from vendorrisk.models import Answer, AuditEvent, PortalSitting, Role

ROOT = Path(__file__).resolve().parents[2]
DUE = date.today() + timedelta(days=30)
ENDED_JA = "セッションは終了しました"
ENDED_EN = "Your session has ended"
SECTION = "profile"
QUESTION = "sup-prof-01"


def _path(url: str) -> str:
    return re.sub(r"^https?://[^/]+", "", url)


@pytest.fixture
def sent(app, auth, make_supplier, make_contact, smtp_server):
    """Procurement sends the questionnaire to one contact; the link is in their mail."""
    owner = auth.login(Role.procurement)
    supplier = make_supplier(name_ja="株式会社セッション検証", owner_id=owner.id)
    contact = make_contact(supplier, email="sato@example.jp", locale="ja", is_primary=True)
    response = auth.client.post(
        f"/suppliers/{supplier.id}/send",
        data={
            "template_id": "csm-v2-supplier",
            "due_on": DUE.isoformat(),
            "contact_ids": [contact.id],
            f"locale-{contact.id}": "ja",
        },
    )
    assert response.status_code == 302
    auth.logout()
    return SimpleNamespace(link=_path(link_in(smtp_server.messages[-1])), smtp=smtp_server)


def _open(app, link: str, lang: str = "ja"):
    """The contact's browser: the mailed link, then its button."""
    browser = app.test_client()
    response = browser.post(link, data={"lang": lang})
    assert response.status_code == 302 and response.headers["Location"] == "/portal/q/"
    return browser


def _copy_of_cookie(app, victim):
    """What the attacker holds: a copy of the victim's session cookie, in their own browser."""
    attacker = app.test_client()
    attacker.set_cookie("session", victim.get_cookie("session").value)
    return attacker


def _move_sitting(ctx, **ago: timedelta) -> None:
    """Make the (only) sitting look older: created_at / last_seen_at moved back by `ago`."""
    with ctx() as session:
        sitting = session.scalars(sa.select(PortalSitting)).one()
        for name, delta in ago.items():
            setattr(sitting, name, getattr(sitting, name) - delta)
        session.commit()


def _typed_save(browser, text: str):
    return browser.post(
        f"/portal/q/section/{SECTION}",
        data={f"a-{QUESTION}": text, f"v-{QUESTION}": "0", f"c-{QUESTION}": "午後に追記"},
    )


def _answers(ctx) -> list[str]:
    with ctx() as session:
        return [a.value for a in session.scalars(sa.select(Answer))]


# -- a copied sitting cookie -----------------------------------------------------------------


def test_a_copied_sitting_cookie_is_refused_once_the_contact_finishes(app, sent, ctx):
    contact = _open(app, sent.link)
    attacker = _copy_of_cookie(app, contact)
    assert attacker.get("/portal/q/").status_code == 200  # a live sitting: the copy works, so far
    page = contact.get("/portal/q/").get_data(as_text=True)
    assert 'id="finish-for-now"' in page and "中断して終了" in page  # on every portal page

    finished = contact.post("/portal/q/finish")
    assert finished.status_code == 302 and finished.headers["Location"] == "/portal/finished"
    assert "回答は保存されています" in contact.get("/portal/finished").get_data(as_text=True)

    refused = attacker.get("/portal/q/")
    body = refused.get_data(as_text=True)
    assert refused.status_code == 403 and ENDED_JA in body
    assert "株式会社セッション検証" not in body and "sato@example.jp" not in body
    assert _typed_save(attacker, "攻撃者の回答").status_code == 403
    assert attacker.post("/portal/q/autosave", data={"question": QUESTION}).status_code == 403
    assert "攻撃者の回答" not in _answers(ctx)
    with ctx() as session:
        sitting = session.scalars(sa.select(PortalSitting)).one()
        assert sitting.ended_at is not None
        events = session.scalars(sa.select(AuditEvent.action)).all()
    assert "portal_finished" in events


def test_a_sitting_ends_after_its_idle_time_with_the_page_in_the_contacts_language(app, sent, ctx):
    contact = _open(app, sent.link)
    _move_sitting(ctx, last_seen_at=timedelta(minutes=61), created_at=timedelta(minutes=61))
    refused = contact.get("/portal/q/")
    assert refused.status_code == 403
    assert ENDED_JA in refused.get_data(as_text=True)
    assert "60分" in refused.get_data(as_text=True)

    assert contact.post(sent.link, data={"lang": "en"}).status_code == 302  # open it again
    _move_sitting_of_last(ctx, minutes=61)
    assert ENDED_EN in contact.get("/portal/q/").get_data(as_text=True)


def _move_sitting_of_last(ctx, minutes: int) -> None:
    with ctx() as session:
        sitting = session.scalars(
            sa.select(PortalSitting).order_by(PortalSitting.id.desc())
        ).first()
        sitting.last_seen_at -= timedelta(minutes=minutes)
        sitting.created_at -= timedelta(minutes=minutes)
        session.commit()


def test_use_keeps_a_sitting_alive_but_not_past_its_absolute_lifetime(app, sent, ctx):
    contact = _open(app, sent.link)
    _move_sitting(ctx, last_seen_at=timedelta(minutes=50), created_at=timedelta(hours=11))
    assert contact.get("/portal/q/").status_code == 200  # 50 idle minutes: still alive
    with ctx() as session:
        seen = session.scalars(sa.select(PortalSitting.last_seen_at)).one()
    assert datetime.now(UTC) - seen < timedelta(minutes=1)  # and its idle time starts again
    _move_sitting(ctx, created_at=timedelta(hours=1, minutes=1))  # 12 h since it opened
    refused = contact.get("/portal/q/")
    assert refused.status_code == 403 and ENDED_JA in refused.get_data(as_text=True)


def test_a_save_arriving_after_expiry_keeps_what_was_typed(app, sent, ctx):
    contact = _open(app, sent.link)
    assert contact.get(f"/portal/q/section/{SECTION}").status_code == 200
    _move_sitting(ctx, last_seen_at=timedelta(minutes=90), created_at=timedelta(minutes=90))

    late = _typed_save(contact, "昼休み後に入力した回答")
    page = late.get_data(as_text=True)
    assert late.status_code == 403 and ENDED_JA in page
    assert "昼休み後に入力した回答" in page and "午後に追記" in page  # still in the form
    assert f'action="/portal/q/section/{SECTION}"' in page
    assert "昼休み後に入力した回答" not in _answers(ctx)

    # The contact opens the mailed link again (same browser) and saves the same form again.
    _open_again = contact.post(sent.link, data={"lang": "ja"})
    assert _open_again.status_code == 302
    assert _typed_save(contact, "昼休み後に入力した回答").status_code == 302
    assert _answers(ctx) == ["昼休み後に入力した回答"]


def test_a_late_autosave_says_the_session_ended(app, sent, ctx):
    contact = _open(app, sent.link)
    _move_sitting(ctx, last_seen_at=timedelta(minutes=61), created_at=timedelta(minutes=61))
    late = contact.post(
        "/portal/q/autosave",
        data={"question": QUESTION, f"a-{QUESTION}": "x", f"v-{QUESTION}": "0"},
    )
    assert late.status_code == 403 and late.json["status"] == "ended"
    assert late.json["message"].startswith("セッションは終了しました")


# -- a logged link replayed ------------------------------------------------------------------


def test_a_logged_link_replayed_in_another_browser_opens_nothing_but_a_mail_to_the_contact(
    app, sent, ctx
):
    contact = _open(app, sent.link)
    assert contact.post("/portal/q/finish").status_code == 302
    sittings_before = _count(ctx, PortalSitting)

    attacker = app.test_client()  # has the link from a proxy log, no cookie of the contact
    landing = attacker.get(sent.link).get_data(as_text=True)
    assert "別のブラウザで開かれています" in landing and "s***@example.jp" in landing
    assert "株式会社セッション検証" not in landing
    replay = attacker.post(sent.link, data={"lang": "ja"})
    assert replay.status_code == 403 and "portal" not in _session_of(attacker)
    assert _count(ctx, PortalSitting) == sittings_before
    assert attacker.get("/portal/q/").status_code == 403

    # What the attacker can still do: have a new link mailed to the contact (not to them).
    mails = len(sent.smtp.messages)
    renewed = attacker.post(f"{sent.link}/renew")
    assert renewed.status_code == 200 and "s***@example.jp" in renewed.get_data(as_text=True)
    assert len(sent.smtp.messages) == mails + 1
    fresh = sent.smtp.messages[-1]
    assert fresh["To"].addresses[0].addr_spec == "sato@example.jp"
    new_link = _path(link_in(fresh))
    assert attacker.get(sent.link).status_code == 410  # the logged link is dead
    with ctx() as session:
        actions = session.scalars(sa.select(AuditEvent.action)).all()
    assert "portal_open_refused" in actions and "portal_link_renewed" in actions
    with ctx() as session:  # the refusal is audited, and the audit log keeps no link token
        rows = session.execute(sa.select(AuditEvent.__table__)).all()
    assert not [row for row in rows if sent.link.rsplit("/", 1)[1] in str(tuple(row))]

    # The contact's first browser opens the new link at once; a second PC, from the new mail.
    assert contact.post(new_link, data={"lang": "ja"}).status_code == 302
    contact.post("/portal/q/finish")
    second_pc = app.test_client()
    assert second_pc.post(new_link, data={"lang": "ja"}).status_code == 403  # used, finished
    # ...so the second PC asks for its own link, and gets in with it.
    second_pc.post(f"{new_link}/renew")
    assert _open(app, _path(link_in(sent.smtp.messages[-1])))
    # and the first browser stays bound through both renewals:
    newest = _path(link_in(sent.smtp.messages[-1]))
    assert contact.post(newest, data={"lang": "ja"}).status_code == 302


def test_the_same_browser_comes_back_days_later_from_the_same_mail(app, sent, ctx):
    contact = _open(app, sent.link)
    contact.post("/portal/q/finish")
    _move_sitting(ctx, last_seen_at=timedelta(days=3), created_at=timedelta(days=3))
    contact.delete_cookie("session")  # the browser was closed: only the lasting cookie remains
    assert contact.post(sent.link, data={"lang": "ja"}).status_code == 302
    assert contact.get("/portal/q/").status_code == 200


def test_a_forged_device_cookie_binds_nothing(app, sent, ctx):
    contact = _open(app, sent.link)
    contact.post("/portal/q/finish")
    attacker = app.test_client()
    attacker.set_cookie("portal-device", "WzEsMiwzXQ.forged.signature")
    assert attacker.post(sent.link, data={"lang": "ja"}).status_code == 403


def _count(ctx, model) -> int:
    with ctx() as session:
        return session.scalar(sa.select(sa.func.count()).select_from(model))


def _session_of(client) -> dict:
    with client.session_transaction() as session:
        return dict(session)


# -- the access log --------------------------------------------------------------------------


def _get(url: str, data: bytes | None = None) -> int:
    try:
        with urllib.request.urlopen(url, data=data, timeout=10) as response:  # noqa: S310
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def test_gunicorns_access_log_never_holds_a_link_token(tmp_path):
    """gunicorn for real, on loopback, as started in production (from the project folder)."""
    database = tmp_path / "app.sqlite3"
    env = {
        "PATH": os.environ["PATH"],
        "VENDORRISK_ENV": "development",
        "VENDORRISK_SECRET_KEY": secrets.token_hex(32),
        "VENDORRISK_DATABASE_URL": f"sqlite:///{database}",
        "VENDORRISK_UPLOAD_DIR": str(tmp_path / "uploads"),
    }
    bin_dir = Path(sys.executable).parent
    subprocess.run(  # noqa: S603 - the app's own command
        [str(bin_dir / "vendorrisk"), "db", "upgrade"], cwd=ROOT, env=env, check=True,
        capture_output=True,
    )  # fmt: skip
    port = _free_port()
    access, errors = tmp_path / "access.log", tmp_path / "error.log"
    server = subprocess.Popen(  # noqa: S603
        [str(bin_dir / "gunicorn"), "--workers", "1", "--bind", f"127.0.0.1:{port}",
         "--access-logfile", str(access), "--error-logfile", str(errors), "wsgi:app"],
        cwd=ROOT, env=env,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                if _get(f"{base}/healthz") == 200:
                    break
            except OSError:
                time.sleep(0.05)
        tokens = [secrets.token_urlsafe(32) for _ in range(3)]
        assert _get(f"{base}/portal/{tokens[0]}?lang=en") == 404
        assert _get(f"{base}/portal/e/{tokens[1]}") == 404
        _get(f"{base}/portal/{tokens[2]}/renew", data=b"lang=ja")
        assert _get(f"{base}/portal/q/") == 403
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=20)
    logged = access.read_text() + errors.read_text()
    assert "/portal/q/" in logged and "/portal/[link]?lang=en" in logged
    assert "/portal/e/[link]" in logged and "/portal/[link]/renew" in logged
    for token in tokens:
        assert token not in logged

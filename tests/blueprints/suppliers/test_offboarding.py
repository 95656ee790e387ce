"""Offboarding on the supplier's page: a supplier offboarded end to end (the erasure certificate
sent by its contact through the emailed link, over a real SMTP server), the roll-up that keeps it
until the checklist is done, the exception a CISO approves, and refusals that lose nothing.

The wall clock stands still at NOW (or a set time after it): no test depends on today's date.
"""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime, timedelta
from email.header import decode_header, make_header
from types import SimpleNamespace

import pandas as pd
import pytest
import sqlalchemy as sa
import time_machine

from tests.conftest import body_of
from tests.factories import make_assessment, make_invitation
from vendorrisk.extensions import db
from vendorrisk.mail import sender
from vendorrisk.models import (
    AssessmentStatus,
    AuditEvent,
    ErasureRequest,
    Offboarding,
    OutboxMessage,
    Role,
    StoredFile,
    Supplier,
    SupplierStatus,
)

#: 10:00 in Tokyo on the day offboarding starts.
NOW = datetime(2027, 3, 1, 1, 0, tzinfo=UTC)
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
EN = {"Accept-Language": "en"}
SENDER = {
    "company_ja": "サンプル商事株式会社",
    "company_en": "Sample Trading Co., Ltd.",
    "department_ja": "調達部",
    "person_ja": "田中 一郎",
    "phone": "03-1234-5678",
    "email": "procurement@sample.co.jp",
}
ERASURE_LINK = re.compile(r"https?://[^/\s]+(/portal/erasure/[A-Za-z0-9_-]{40,})")


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def world(app, auth, make_supplier, make_contact):
    owner = auth.login(Role.procurement, name="調達 花子", locale="en")
    supplier = make_supplier(name_ja="潮騒ソフトウェア株式会社", name_en="Shiosai Software",
                             status=SupplierStatus.active, owner_id=owner.id)  # fmt: skip
    contact = make_contact(supplier, name="清水 亮", email="shimizu@shiosai.example.jp",
                           department="情報システム部", job_title="部長",
                           is_primary=True)  # fmt: skip
    other = make_supplier(name_ja="継続株式会社", status=SupplierStatus.active)
    with app.app_context():
        sender.save(SENDER)
        db.session.commit()
    return SimpleNamespace(owner=owner, supplier=supplier, contact=contact, other=other)


def _url(w, action: str = "") -> str:
    return f"/suppliers/{w.supplier.id}/offboarding/{action}"


def _page(client, w) -> str:
    return client.get(f"/suppliers/{w.supplier.id}", headers=EN).get_data(as_text=True)


def _section(client, w) -> str:
    html = _page(client, w)
    start = html.index('<section id="offboarding">')
    return html[start : html.index("</section>", start)]


def _step(client, w, key: str, note: str = "", file: tuple | None = None):
    data = {"step": key, f"{key}-note": note}
    if file is not None:
        data[f"{key}-certificate"] = file
    return client.post(_url(w, "step"), data=data, content_type="multipart/form-data")


def _status(app, supplier_id: int) -> SupplierStatus:
    with app.app_context():
        return db.session.get(Supplier, supplier_id).status


def _live_listed(client) -> str:
    """The supplier list the roll-up's numbers open: the suppliers it counts."""
    return client.get("/suppliers/?status=live", headers=EN).get_data(as_text=True)


def _decoded(header) -> str:
    return str(make_header(decode_header(str(header))))


def test_a_supplier_is_offboarded_end_to_end(app, auth, client, world, smtp_server):
    staff = auth.client
    assert "Start offboarding" in _section(staff, world)
    started = {"start-reason": "contract_ended", "start-note": "基本契約は2月末で終了"}
    response = staff.post(_url(world, "start"), data=started)
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/suppliers/{world.supplier.id}#offboarding")
    assert _status(app, world.supplier.id) == SupplierStatus.offboarding
    assert "潮騒ソフトウェア株式会社" in _live_listed(staff)  # still counted: not done yet

    assert _step(staff, world, "data_returned", "暗号化USBで全件返却を受領").status_code == 302
    assert staff.post(_url(world, "erasure-request")).status_code == 302
    [letter] = smtp_server.messages
    assert letter["To"].addresses[0].addr_spec == "shimizu@shiosai.example.jp"
    assert _decoded(letter["Subject"]).startswith("【サンプル商事株式会社】")
    body = body_of(letter)
    assert body.startswith("潮騒ソフトウェア株式会社\n情報システム部\n部長 清水 亮 様\n")
    assert "いつも大変お世話になっております。" in body
    assert "サンプル商事株式会社 調達部の田中 一郎でございます。" in body
    assert "契約の終了に伴い" in body and "消去証明書" in body
    assert "何卒よろしくお願い申し上げます。" in body and "TEL: 03-1234-5678" in body
    path = ERASURE_LINK.search(body).group(1)

    supplier_side = app.test_client()
    page = supplier_side.get(path)
    assert page.status_code == 200 and '<html lang="ja">' in page.get_data(as_text=True)
    assert page.headers["Cache-Control"] == "no-store"
    refused = supplier_side.post(path, data={"file": (io.BytesIO(b"not a pdf"), "cert.pdf")},
                                 content_type="multipart/form-data")  # fmt: skip
    assert refused.status_code == 422  # shown again, saying why; nothing kept
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(StoredFile.id))) == 0
    sent = supplier_side.post(path, data={"file": (io.BytesIO(PDF), "消去証明書.pdf")},
                              content_type="multipart/form-data")  # fmt: skip
    assert sent.status_code == 200, sent.get_data(as_text=True)
    told = smtp_server.messages[-1]
    assert told["To"].addresses[0].addr_spec == world.owner.email
    assert "消去証明書.pdf" in body_of(told)
    assert supplier_side.get(path).status_code == 410  # used: the link no longer works
    with app.app_context():  # and the delivered letter no longer holds it
        kept = db.session.scalar(
            sa.select(OutboxMessage).where(OutboxMessage.kind == "erasure_request")
        )
        assert kept.status == "sent" and path not in kept.body_text + kept.body_html
    assert supplier_side.get("/portal/erasure/" + "x" * 43).status_code == 404  # forged
    section = _section(staff, world)
    assert "消去証明書.pdf" in section

    assert _step(staff, world, "erasure_certificate", "書面の記載内容を確認").status_code == 302
    assert _step(staff, world, "access_removed", "VPN・AD アカウント削除").status_code == 302
    assert _step(staff, world, "links_revoked").status_code == 302
    assert _status(app, world.supplier.id) == SupplierStatus.offboarding
    assert "潮騒ソフトウェア株式会社" in _live_listed(staff)
    assert _step(staff, world, "findings_closed").status_code == 302

    assert _status(app, world.supplier.id) == SupplierStatus.offboarded  # only now
    listed = _live_listed(staff)
    assert "潮騒ソフトウェア株式会社" not in listed and "継続株式会社" in listed
    section = _section(staff, world)
    assert "Offboarded on 2027-03-01: every step done" in section
    assert "Start offboarding" not in section
    record = staff.get(_url(world, "record.xlsx"))
    assert record.status_code == 200
    assert record.headers["Content-Disposition"].startswith("attachment")
    assert "sandbox" in record.headers["Content-Security-Policy"]
    assert record.headers["X-Content-Type-Options"] == "nosniff"
    sheet = pd.read_excel(io.BytesIO(record.data), engine="openpyxl")
    assert list(sheet["step"]) == ["data_returned", "erasure_certificate", "access_removed",
                                   "links_revoked", "findings_closed"]  # fmt: skip
    assert sheet["done_by"].eq(world.owner.email).all()
    assert sheet.loc[1, "file"] == "消去証明書.pdf"
    with app.app_context():
        actions = set(db.session.scalars(sa.select(AuditEvent.action)))
    assert {"offboarding_started", "erasure_certificate_requested", "export",
            "erasure_certificate_received", "offboarding_completed"} <= actions  # fmt: skip


def test_a_refusal_says_why_and_keeps_what_was_typed(app, auth, world):
    staff = auth.client
    staff.post(_url(world, "start"), data={"start-reason": "retired"})
    refused = _step(staff, world, "erasure_certificate", "郵送で受領予定")  # no file yet
    assert refused.status_code == 302
    page = _page(staff, world)
    assert "Attach the erasure certificate, or ask the supplier for it by link." in page
    assert "郵送で受領予定</textarea>" in page  # and the note typed, filled in again
    assert "郵送で受領予定</textarea>" not in _page(staff, world)  # once only

    assert _step(staff, world, "access_removed", "全アカウント削除").status_code == 302
    again = _step(staff, world, "access_removed", "二度目")
    assert again.status_code == 302
    assert "already recorded as done by 調達 花子 on 2027-03-01" in _page(staff, world)
    with app.app_context():
        step = db.session.scalar(sa.select(Offboarding)).step("access_removed")
        assert step.note == "全アカウント削除"  # the first record is kept


def test_only_a_ciso_or_an_admin_approves_an_exception_with_a_reason(app, auth, world):
    auth.client.post(_url(world, "start"), data={"start-reason": "retired"})
    assert auth.client.post(_url(world, "exception"),
                            data={"exception-reason": "連絡不能"}).status_code == 403  # fmt: skip
    assert "offboarding-exception" not in _section(auth.client, world)
    auth.logout()
    auth.login(Role.ciso, name="情報 統括", locale="en")
    empty = auth.client.post(_url(world, "exception"), data={"exception-reason": " "})
    assert empty.status_code == 302
    assert "Give the reason for offboarding with steps still open." in _page(auth.client, world)
    assert _status(app, world.supplier.id) == SupplierStatus.offboarding
    done = auth.client.post(_url(world, "exception"),
                            data={"exception-reason": "先方が廃業し連絡不能"})  # fmt: skip
    assert done.status_code == 302
    assert _status(app, world.supplier.id) == SupplierStatus.offboarded
    section = _section(auth.client, world)
    assert "先方が廃業し連絡不能" in section and "情報 統括" in section
    with app.app_context():
        closed = db.session.scalar(sa.select(Offboarding))
        assert closed.exception_reason == "先方が廃業し連絡不能" and closed.completed_at is None


def test_the_supplier_form_cannot_offboard_directly(app, auth, world):
    form = {"name_ja": "潮騒ソフトウェア株式会社", "category": "outsourcing_contractor",
            "status": "offboarded", "criticality": "medium", "country": "JP",
            "max_outage": "weeks", "replaceability": "moderate",
            "owner_id": str(world.owner.id)}  # fmt: skip
    response = auth.client.post(f"/suppliers/{world.supplier.id}/edit", data=form)
    assert response.status_code == 302
    assert _status(app, world.supplier.id) == SupplierStatus.active  # nothing saved
    page = auth.client.get(response.headers["Location"], headers=EN).get_data(as_text=True)
    assert "A supplier is offboarded through its offboarding checklist" in page


def test_an_expired_erasure_link_answers_410_and_keeps_nothing(app, auth, world, smtp_server):
    auth.client.post(_url(world, "start"), data={"start-reason": "contract_ended"})
    auth.client.post(_url(world, "erasure-request"))
    path = ERASURE_LINK.search(body_of(smtp_server.messages[-1])).group(1)
    with time_machine.travel(NOW + timedelta(days=31), tick=False):
        portal = app.test_client()
        assert portal.get(path).status_code == 410
        late = portal.post(path, data={"file": (io.BytesIO(PDF), "late.pdf")},
                           content_type="multipart/form-data")  # fmt: skip
        assert late.status_code == 410
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(StoredFile.id))) == 0
        assert db.session.scalar(sa.select(ErasureRequest.fulfilled_at)) is None


def test_the_links_step_withdraws_questionnaires_still_waiting(app, auth, world, smtp_server):
    with app.app_context():
        waiting = make_assessment(world.supplier, status=AssessmentStatus.sent)
        make_invitation(waiting, world.contact, expires_at=NOW + timedelta(days=20))
        db.session.commit()
        waiting_id = waiting.id
    auth.client.post(_url(world, "start"), data={"start-reason": "contract_ended"})
    assert "Links still working: 1" in _section(auth.client, world)
    _step(auth.client, world, "links_revoked")
    assert "Links still working" not in _section(auth.client, world)  # done: no count shown
    [withdrawn] = smtp_server.messages  # the contact is told the questionnaire is withdrawn
    assert withdrawn["To"].addresses[0].addr_spec == "shimizu@shiosai.example.jp"
    with app.app_context():
        from vendorrisk.models import Assessment

        assert db.session.get(Assessment, waiting_id).status == AssessmentStatus.cancelled

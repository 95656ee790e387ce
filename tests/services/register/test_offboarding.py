"""Offboarding (取引終了手続き): the checklist a supplier goes through when its contract ends or it
is retired, the status that follows it, the erasure-certificate link, the reminders to its owner,
the exception a CISO approves, and the record. Every time is given: no test reads today's date."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace

import pandas as pd
import pytest
import sqlalchemy as sa
import time_machine

from tests.factories import make_assessment, make_finding, make_invitation
from vendorrisk.extensions import db
from vendorrisk.models import (
    OFFBOARDING_STEPS,
    Assessment,
    AssessmentStatus,
    AttestationKind,
    AuditEvent,
    ErasureRequest,
    EvidenceRequest,
    FindingStatus,
    Invitation,
    Offboarding,
    OffboardingStep,
    OutboxMessage,
    Role,
    StoredFile,
    Supplier,
    SupplierStatus,
    User,
)
from vendorrisk.services import files
from vendorrisk.services.periodic.offboarding_reminders import (
    offboarding_reminders,
    reminder_stage,
)
from vendorrisk.services.register import offboarding
from vendorrisk.services.register.offboarding import OffboardingError, StatusFollowsChecklist
from vendorrisk.services.reporting import exports, scope

#: 9:00 in Tokyo on the day offboarding starts.
NOW = datetime(2027, 3, 1, 0, 0, tzinfo=UTC)
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture(autouse=True)
def frozen():
    """The wall clock stands at NOW (the letters' dates read it)."""
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def world(app, make_user, make_supplier, make_contact):
    owner = make_user(Role.procurement, name="調達 花子")
    ciso = make_user(Role.ciso, name="情報 統括")
    supplier = make_supplier(name_ja="株式会社消去", name_en="Erasure KK",
                             status=SupplierStatus.active, owner_id=owner.id)  # fmt: skip
    contact = make_contact(supplier, name="佐藤 一郎", email="sato@erasure.example.jp",
                           is_primary=True, department="情報システム部",
                           job_title="部長")  # fmt: skip
    other = make_supplier(name_ja="株式会社継続", status=SupplierStatus.active)
    return SimpleNamespace(owner=owner, ciso=ciso, supplier=supplier, contact=contact, other=other)


def _user(user_id: int) -> User:
    return db.session.get(User, user_id)


def _supplier(supplier_id: int) -> Supplier:
    return db.session.get(Supplier, supplier_id)


def _live() -> set[int]:
    """The suppliers the roll-up counts (scope.LIVE)."""
    return set(db.session.scalars(sa.select(Supplier.id).where(scope.LIVE)))


def _start(w, now: datetime = NOW) -> Offboarding:
    started = offboarding.start(
        _supplier(w.supplier.id),
        "contract_ended",
        "基本契約 2027年2月末終了",
        _user(w.owner.id),
        now,
    )
    db.session.commit()
    return started


def _certificate(name: str = "消去証明書.pdf") -> StoredFile:
    from flask import current_app

    return files.store(io.BytesIO(PDF), name, current_app.config["UPLOAD_DIR"], 10**6)


def _open(supplier_id: int) -> Offboarding:
    return offboarding.open_offboarding(supplier_id)


def _done(w, key: str, note: str = "", certificate=None, now: datetime = NOW) -> None:
    offboarding.mark_done(_open(w.supplier.id), key, note, _user(w.owner.id), now, certificate)
    db.session.commit()


def _actions(supplier_id: int) -> list[str]:
    return list(
        db.session.scalars(
            sa.select(AuditEvent.action)
            .where(AuditEvent.supplier_id == supplier_id, AuditEvent.object_type == "suppliers")
            .where(AuditEvent.action.like("offboarding%") | AuditEvent.action.like("erasure%"))
            .order_by(AuditEvent.id)
        )
    )


def test_starting_keeps_the_supplier_live_with_every_step_open_in_order(app, world):
    with app.app_context():
        started = _start(world)
        assert _supplier(world.supplier.id).status == SupplierStatus.offboarding
        assert world.supplier.id in _live()  # still in the roll-up until the checklist closes
        assert [s.key for s in started.steps] == list(OFFBOARDING_STEPS)
        assert all(s.done_at is None for s in started.steps)
        assert started.started_by_id == world.owner.id and started.started_at == NOW
        assert _actions(world.supplier.id) == ["offboarding_started"]
        with pytest.raises(OffboardingError, match="already started"):
            _start(world)
        db.session.rollback()
        assert db.session.scalar(sa.select(sa.func.count(Offboarding.id))) == 1


def test_each_step_asks_for_what_it_stands_for(app, world):
    with app.app_context():
        _start(world)
        for key, message in (
            ("data_returned", "Say what was done"),
            ("access_removed", "Say what was done"),
            ("erasure_certificate", "Attach the erasure certificate"),
        ):
            with pytest.raises(OffboardingError, match=message):
                _done(world, key)
            db.session.rollback()
        finding = make_finding(world.supplier, title="ログの保管期間")
        db.session.commit()
        with pytest.raises(OffboardingError, match="1 findings of this supplier are still open"):
            _done(world, "findings_closed")
        db.session.rollback()
        assert all(s.done_at is None for s in _open(world.supplier.id).steps)  # nothing kept

        finding = db.session.merge(finding)
        finding.status = FindingStatus.risk_accepted  # accepted counts as closed
        finding.accepted_by_id, finding.accepted_until = world.ciso.id, date(2027, 12, 31)
        db.session.commit()
        _done(world, "findings_closed")
        _done(world, "data_returned", "全データを暗号化USBで受領（2/28）")
        step = _open(world.supplier.id).step("data_returned")
        assert (step.done_by_id, step.done_at, step.note) == (
            world.owner.id,
            NOW,
            "全データを暗号化USBで受領（2/28）",
        )


def test_a_step_done_twice_is_refused_and_its_first_record_kept(app, world):
    with app.app_context():
        _start(world)
        _done(world, "access_removed", "VPNアカウント3件削除")
        later = NOW + timedelta(days=1)
        with pytest.raises(
            OffboardingError, match="already recorded as done by 調達 花子 on 2027-03-01"
        ):
            _done(world, "access_removed", "上書き", now=later)
        db.session.rollback()
        step = _open(world.supplier.id).step("access_removed")
        assert (step.note, step.done_at) == ("VPNアカウント3件削除", NOW)


def test_revoking_links_stops_every_link_of_the_supplier_and_withdraws_waiting_questionnaires(
    app, world, make_attestation
):
    isms = make_attestation(world.supplier, kind=AttestationKind.isms, level=None,
                            expires_on=date(2027, 4, 1))  # fmt: skip
    with app.app_context():
        waiting = make_assessment(world.supplier, status=AssessmentStatus.in_progress)
        make_invitation(waiting, world.contact, expires_at=NOW + timedelta(days=20))
        submitted = make_assessment(world.supplier, status=AssessmentStatus.submitted)
        make_invitation(submitted, world.contact, expires_at=NOW + timedelta(days=20))
        kept = make_assessment(world.other, status=AssessmentStatus.sent)
        make_invitation(kept, expires_at=NOW + timedelta(days=20))
        asked = EvidenceRequest(attestation_id=isms.id, email=world.contact.email,
                                token_hash="e" * 64,
                                expires_at=NOW + timedelta(days=9))  # fmt: skip
        db.session.add(asked)
        db.session.commit()
        _start(world)
        assert offboarding.live_links(world.supplier.id, NOW) == 3
        _done(world, "links_revoked", "社内の共有フォルダも確認済み")

        assert offboarding.live_links(world.supplier.id, NOW + timedelta(seconds=1)) == 0
        statuses = dict(db.session.execute(sa.select(Assessment.id, Assessment.status)).all())
        assert statuses[waiting.id] == AssessmentStatus.cancelled  # withdrawn, contacts told
        assert statuses[submitted.id] == AssessmentStatus.submitted  # under review: kept
        other_link = db.session.scalar(
            sa.select(Invitation).where(Invitation.assessment_id == kept.id)
        )
        assert other_link.revoked_at is None  # another supplier's link is untouched
        assert db.session.scalar(sa.select(EvidenceRequest.expires_at)) == NOW
        note = _open(world.supplier.id).step("links_revoked").note
        assert note.startswith("社内の共有フォルダも確認済み Revoked: 2 questionnaire links")
        assert "(1 questionnaires withdrawn)" in note and "1 renewed-evidence links" in note
        kinds = db.session.scalars(sa.select(OutboxMessage.kind)).all()
        assert kinds == ["cancelled"]


def _all_but_last(w) -> None:
    _done(w, "data_returned", "返却済み")
    _done(w, "erasure_certificate", "", _certificate())
    _done(w, "access_removed", "アカウント削除済み")
    _done(w, "links_revoked")


def test_the_last_step_offboards_the_supplier_and_stops_links_issued_since(app, world):
    with app.app_context():
        _start(world)
        _all_but_last(world)
        assert _supplier(world.supplier.id).status == SupplierStatus.offboarding
        assert world.supplier.id in _live()
        # A finding reminder mailed a new link after the links step: completion stops it too.
        late = make_assessment(world.supplier, status=AssessmentStatus.completed)
        make_invitation(late, world.contact, expires_at=NOW + timedelta(days=30))
        db.session.commit()
        closing = NOW + timedelta(days=2)
        _done(world, "findings_closed", now=closing)

        done = db.session.scalar(sa.select(Offboarding))
        assert done.completed_at == closing and not done.is_open and done.exception_at is None
        assert _supplier(world.supplier.id).status == SupplierStatus.offboarded
        assert world.supplier.id not in _live() and world.other.id in _live()
        assert offboarding.live_links(world.supplier.id, closing) == 0
        assert _actions(world.supplier.id) == [
            "offboarding_started",
            *["offboarding_step_done"] * 5,
            "offboarding_links_revoked",
            "offboarding_completed",
        ]
        with pytest.raises(OffboardingError, match="already closed"):
            offboarding.approve_exception(done, "念のため", _user(world.ciso.id), closing)


def test_an_exception_needs_a_ciso_or_an_admin_and_a_reason(app, world):
    with app.app_context():
        _start(world)
        _done(world, "data_returned", "返却済み")
        checklist = _open(world.supplier.id)
        with pytest.raises(OffboardingError, match="Only a CISO or an administrator"):
            offboarding.approve_exception(checklist, "先方と連絡不能", _user(world.owner.id), NOW)
        with pytest.raises(OffboardingError, match="Give the reason"):
            offboarding.approve_exception(checklist, "  ", _user(world.ciso.id), NOW)
        db.session.rollback()
        assert _supplier(world.supplier.id).status == SupplierStatus.offboarding

        checklist = _open(world.supplier.id)
        offboarding.approve_exception(checklist, "先方が廃業し連絡不能", _user(world.ciso.id), NOW)
        db.session.commit()
        closed = db.session.scalar(sa.select(Offboarding))
        assert (closed.exception_by_id, closed.exception_at, closed.completed_at) == (
            world.ciso.id,
            NOW,
            None,
        )
        assert closed.exception_reason == "先方が廃業し連絡不能"
        assert [s.key for s in closed.open_steps] == list(OFFBOARDING_STEPS[1:])  # kept open
        assert _supplier(world.supplier.id).status == SupplierStatus.offboarded
        assert world.supplier.id not in _live()
        event = db.session.scalar(
            sa.select(AuditEvent).where(AuditEvent.action == "offboarding_exception")
        )
        assert event.summary == ", ".join(OFFBOARDING_STEPS[1:])  # the steps left open


def test_stopping_makes_the_supplier_active_again_and_the_log_keeps_what_was_done(app, world):
    with app.app_context():
        _start(world)
        _done(world, "data_returned", "返却済み")
        _ask(world)
        with pytest.raises(OffboardingError, match="Give the reason"):
            offboarding.cancel(_open(world.supplier.id), "", _user(world.owner.id), NOW)
        db.session.rollback()
        offboarding.cancel(_open(world.supplier.id), "契約を更新", _user(world.owner.id), NOW)
        db.session.commit()
        assert _supplier(world.supplier.id).status == SupplierStatus.active
        assert db.session.scalar(sa.select(sa.func.count(OffboardingStep.id))) == 0
        assert db.session.scalar(sa.select(sa.func.count(ErasureRequest.id))) == 0
        event = db.session.scalar(
            sa.select(AuditEvent).where(AuditEvent.action == "offboarding_cancelled")
        )
        assert event.summary == "契約を更新" and event.changes == {"data_returned": "返却済み"}
        _start(world)  # and it may start again later


def test_the_supplier_form_cannot_set_the_statuses_the_checklist_sets(app, world):
    with app.app_context():
        supplier = _supplier(world.supplier.id)
        for status in ("offboarded", "offboarding"):
            with pytest.raises(StatusFollowsChecklist, match="offboarding checklist") as refused:
                offboarding.check_status_change(supplier, {"status": status, "notes": "x"})
            assert refused.value.supplier_id == supplier.id
        offboarding.check_status_change(supplier, {"status": "onboarding"})
        offboarding.check_status_change(Supplier(), {"status": "offboarded"})  # a former supplier
        with pytest.raises(StatusFollowsChecklist):
            offboarding.check_status_change(Supplier(), {"status": "offboarding"})
        offboarding.check_status_change(world.contact, {"status": "offboarded"})  # not a supplier

        _start(world)
        supplier = _supplier(world.supplier.id)
        with pytest.raises(StatusFollowsChecklist, match="being offboarded"):
            offboarding.check_status_change(supplier, {"status": "active"})
        offboarding.check_status_change(supplier, {"status": "offboarding", "notes": "変更"})


def _ask(w, now: datetime = NOW) -> tuple[ErasureRequest, str]:
    """Ask for the certificate; the token is read back from the queued letter."""
    request = offboarding.ask_for_certificate(_open(w.supplier.id), _user(w.owner.id), now)
    db.session.commit()
    body = db.session.scalar(
        sa.select(OutboxMessage.body_text).where(OutboxMessage.kind == "erasure_request")
        .order_by(OutboxMessage.id.desc()).limit(1)
    )  # fmt: skip
    return request, body.split("/portal/erasure/")[1].split()[0]


def test_the_erasure_link_is_refused_when_forged_expired_replaced_or_used(app, world):
    with app.app_context():
        _start(world)
        first, first_token = _ask(world)
        assert offboarding.find_erasure_request(first_token).id == first.id
        assert offboarding.find_erasure_request(first_token + "x") is None
        assert offboarding.find_erasure_request("") is None
        assert offboarding.erasure_closed_reason(first, NOW) is None
        assert offboarding.erasure_closed_reason(first, first.expires_at) == "expired"

        second, token = _ask(world, NOW + timedelta(hours=1))  # a newer link replaces it
        first = offboarding.find_erasure_request(first_token)
        assert offboarding.erasure_closed_reason(first, NOW + timedelta(hours=2)) == "expired"
        with pytest.raises(OffboardingError, match="no longer valid"):
            offboarding.receive_certificate(first, _certificate(), NOW + timedelta(hours=2))
        db.session.rollback()

        second = offboarding.find_erasure_request(token)
        offboarding.receive_certificate(second, _certificate(), NOW + timedelta(hours=2))
        db.session.commit()
        second = offboarding.find_erasure_request(token)
        assert offboarding.erasure_closed_reason(second, NOW + timedelta(hours=3)) == "fulfilled"
        with pytest.raises(OffboardingError, match="already been sent"):
            offboarding.receive_certificate(second, _certificate(), NOW + timedelta(hours=3))
        db.session.rollback()
        step = _open(world.supplier.id).step("erasure_certificate")
        assert step.stored_file.original_name == "消去証明書.pdf" and step.done_at is None
        owner_mail = db.session.scalar(
            sa.select(OutboxMessage).where(OutboxMessage.kind == "erasure_received")
        )
        assert owner_mail.recipient == world.owner.email


def test_the_certificate_link_needs_a_contact_that_mail_reaches(app, world):
    with app.app_context():
        _start(world)
        db.session.get(type(world.contact), world.contact.id).undeliverable_at = NOW
        db.session.commit()
        with pytest.raises(OffboardingError, match="no contact with a working email address"):
            offboarding.ask_for_certificate(_open(world.supplier.id), _user(world.owner.id), NOW)
        db.session.rollback()
        assert db.session.scalar(sa.select(sa.func.count(ErasureRequest.id))) == 0


@pytest.mark.parametrize(
    ("days", "stage"),
    [(0, None), (6, None), (7, 7), (13, 7), (14, 14), (20, 14), (21, None), (29, None),
     (30, 30), (36, 30), (37, None), (60, 60), (95, 90)],
)  # fmt: skip
def test_reminder_stages(days, stage):
    started = date(2027, 3, 1)
    assert reminder_stage(started, started + timedelta(days=days)) == stage


def _reminders(now: datetime) -> int:
    done = offboarding_reminders(now).done
    db.session.commit()
    return done


def test_the_owner_is_reminded_of_open_steps_once_per_stage(app, world):
    with app.app_context():
        _start(world)
        _done(world, "data_returned", "返却済み")
        assert _reminders(NOW + timedelta(days=6)) == 0
        assert _reminders(NOW + timedelta(days=7)) == 1
        assert _reminders(NOW + timedelta(days=7, hours=3)) == 0  # the same stage: nothing
        assert _reminders(NOW + timedelta(days=9)) == 0
        assert _reminders(NOW + timedelta(days=14)) == 1
        mails = db.session.scalars(
            sa.select(OutboxMessage)
            .where(OutboxMessage.kind == "offboarding_reminder")
            .order_by(OutboxMessage.id)
        ).all()
        assert [m.recipient for m in mails] == [world.owner.email] * 2
        assert [m.dedupe_key.split(":")[2] for m in mails] == ["7", "14"]
        body = mails[0].body_text
        assert "株式会社消去" in body and f"/suppliers/{world.supplier.id}#offboarding" in body
        listed = [line for line in body.splitlines() if line.startswith("- ")]
        assert "- 消去証明書の受領" in listed  # an open step
        assert "- データの返却" not in listed  # done steps are not listed
        offboarding.approve_exception(_open(world.supplier.id), "連絡不能", _user(world.ciso.id),
                                      NOW + timedelta(days=20))  # fmt: skip
        db.session.commit()
        assert _reminders(NOW + timedelta(days=30)) == 0  # closed: no more reminders


def test_without_an_active_owner_the_person_who_started_it_is_reminded(app, world):
    with app.app_context():
        _start(world)
        _supplier(world.supplier.id).owner_id = None
        db.session.commit()
        assert _reminders(NOW + timedelta(days=7)) == 1
        assert (
            db.session.scalar(
                sa.select(OutboxMessage.recipient).where(
                    OutboxMessage.kind == "offboarding_reminder"
                )
            )
            == world.owner.email
        )
        _user(world.owner.id).active = False
        db.session.commit()
        result = offboarding_reminders(NOW + timedelta(days=14))
        assert (result.done, result.skipped) == (0, 1)


def test_the_record_lists_every_step_and_cannot_run_formulas(app, world):
    with app.app_context():
        _start(world)
        _done(world, "data_returned", '=HYPERLINK("http://evil.example")')
        frame = offboarding.record_frame(world.supplier.id)
        assert list(frame.columns) == list(offboarding.RECORD_COLUMNS)
        assert list(frame["step"]) == list(OFFBOARDING_STEPS)
        assert frame.loc[0, "done_by"] == world.owner.email
        assert frame.loc[0, "done_at"] == pd.Timestamp("2027-03-01 00:00:00")
        buffer = io.BytesIO()
        exports.write(frame, buffer, "csv")
        text = buffer.getvalue().decode("utf-8-sig")
        assert "'=HYPERLINK" in text and ",=HYPERLINK" not in text
        buffer = io.BytesIO()
        exports.write(frame, buffer, "xlsx")
        sheet = pd.read_excel(io.BytesIO(buffer.getvalue()), engine="openpyxl")
        assert sheet.loc[0, "step_note"].startswith("'=")
        assert offboarding.record_frame(world.other.id).empty


def test_the_steps_audit_rows_join_the_suppliers_history(app, world):
    with app.app_context():
        _start(world)
        _done(world, "access_removed", "削除済み")
        rows = db.session.execute(
            sa.select(AuditEvent.object_type, AuditEvent.action, AuditEvent.supplier_id).where(
                AuditEvent.object_type.in_(("offboardings", "offboarding_steps"))
            )
        ).all()
        assert {(t, a) for t, a, _ in rows} == {
            ("offboardings", "create"),
            ("offboarding_steps", "create"),
            ("offboarding_steps", "update"),
        }
        assert {s for _, _, s in rows} == {world.supplier.id}


def test_one_open_checklist_per_supplier_is_a_database_rule(app, world):
    with app.app_context():
        _start(world)
        db.session.add(Offboarding(supplier_id=world.supplier.id, reason="retired", started_at=NOW))
        with pytest.raises(sa.exc.IntegrityError):
            db.session.commit()
        db.session.rollback()
        ciso = _user(world.ciso.id)
        offboarding.approve_exception(_open(world.supplier.id), "連絡不能", ciso, NOW)
        db.session.commit()
        db.session.add(Offboarding(supplier_id=world.supplier.id, reason="retired", started_at=NOW))
        db.session.commit()  # a closed one does not count
        assert db.session.scalar(sa.select(sa.func.count(Offboarding.id))) == 2

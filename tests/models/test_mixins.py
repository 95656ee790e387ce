"""The emailed-link and hashed-token mixins: one way to issue, store and find a token."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from tests.factories import make_assessment
from vendorrisk.extensions import db
from vendorrisk.models import (
    ErasureRequest,
    EvidenceRequest,
    Invitation,
    PortalSitting,
    UserSession,
)
from vendorrisk.models.base import utcnow
from vendorrisk.models.mixins import hash_token


def test_every_token_table_stores_only_the_hash(app):
    tables = {
        model.__tablename__: db.metadata.tables[model.__tablename__]
        for model in (Invitation, EvidenceRequest, ErasureRequest, PortalSitting, UserSession)
    }
    for name, table in tables.items():
        assert "token" not in table.c, name
        column = table.c.token_hash
        assert column.type.length == 64 and column.unique, name


def test_an_issued_token_finds_its_invitation_and_a_forged_one_finds_nothing(
    app, make_supplier, make_contact
):
    supplier = make_supplier()
    contact = make_contact(supplier)
    now = utcnow()
    with app.app_context():
        _issue_and_find(make_assessment(supplier), contact, now)


def _issue_and_find(assessment, contact, now):
    invitation = Invitation(
        assessment=assessment,
        contact_id=contact.id,
        email=contact.email,
        created_at=now,
        expires_at=now + timedelta(days=30),
    )
    token = invitation.issue_token()
    db.session.add(invitation)
    db.session.flush()

    assert invitation.token_hash == hash_token(token) != token
    assert len(token) >= 43  # 256 bits, URL-safe
    assert db.session.scalar(Invitation.with_token(token)) is invitation
    assert db.session.scalar(Invitation.with_token(token + "x")) is None
    assert invitation.issue_token() != token  # a re-issue replaces the old token
    assert db.session.scalar(Invitation.with_token(token)) is None


def test_emailed_links_share_one_locale_check(app):
    for model in (Invitation, EvidenceRequest, ErasureRequest):
        checks = {
            str(c.sqltext)
            for c in db.metadata.tables[model.__tablename__].constraints
            if isinstance(c, sa.CheckConstraint)
        }
        assert "locale IN ('ja', 'en')" in checks, model
        assert model.__audit_redacted__ == {"token_hash"}

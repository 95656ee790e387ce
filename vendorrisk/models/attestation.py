"""Attestations (認証・宣言): SECURITY ACTION, ISMS, Privacy Mark, insurance and others."""

from __future__ import annotations

import enum
from datetime import date

import sqlalchemy as sa
from sqlalchemy.ext.hybrid import hybrid_method
from sqlalchemy.orm import Mapped, mapped_column, relationship

from vendorrisk.extensions import db
from vendorrisk.models.base import TimestampMixin, enum_column, one_of
from vendorrisk.vocab import SCS_LEVELS


class AttestationKind(enum.StrEnum):
    security_action = "security_action"
    isms = "isms"
    pmark = "pmark"
    ismap = "ismap"
    csms = "csms"
    soc2 = "soc2"
    cyber_insurance = "cyber_insurance"
    #: METI's SCS evaluation (サプライチェーン強化に向けたセキュリティ対策評価制度), ★3–★5.
    scs = "scs"
    #: 技術情報管理認証 (METI's Technology Information Control System), named in Ver 3.0's D9.
    tech_info_mgmt = "tech_info_mgmt"
    tisax = "tisax"
    iso27701 = "iso27701"
    pci_dss = "pci_dss"
    other = "other"


class ScsEvaluation(enum.StrEnum):
    """How an SCS level was evaluated: ★3 by self-assessment, ★4 by a third party."""

    self = "self"
    third_party = "third_party"


class SecurityActionLevel(enum.StrEnum):
    star1 = "star1"
    star2 = "star2"


class Attestation(TimestampMixin, db.Model):
    __tablename__ = "attestations"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The supplier holding it.
    supplier_id: Mapped[int] = mapped_column(
        sa.ForeignKey("suppliers.id", ondelete="CASCADE"), index=True
    )
    #: Which scheme.
    kind: Mapped[AttestationKind] = mapped_column(
        enum_column(AttestationKind, "attestation_kind"), index=True
    )
    #: SECURITY ACTION only: one star or two stars.
    level: Mapped[SecurityActionLevel | None] = mapped_column(
        enum_column(SecurityActionLevel, "security_action_level")
    )
    #: SCS only: the level evaluated (one of vocab.SCS_LEVELS).
    scs_level: Mapped[str | None] = mapped_column(sa.String(10))
    #: SCS only: 自己評価 or 第三者評価 (an ScsEvaluation).
    evaluation: Mapped[str | None] = mapped_column(sa.String(12))
    #: SCS only: the entry of the scheme's public register (登録台帳): its URL or number.
    ledger_ref: Mapped[str] = mapped_column(sa.String(300), default="", server_default="")
    #: ISMS and the like: the certified scope covers the service the supplier gives us.
    covers_service: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    #: SECURITY ACTION: when our owner last confirmed the declaration is still listed by IPA
    #: (declarations can be withdrawn); None until first confirmed.
    confirmed_on: Mapped[date | None] = mapped_column(sa.Date)
    #: Name of the scheme, for kind "other".
    name: Mapped[str] = mapped_column(sa.String(200), default="")
    #: Declaration id, certificate number or policy number.
    identifier: Mapped[str] = mapped_column(sa.String(100), default="")
    #: Certification body or insurer.
    issuer: Mapped[str] = mapped_column(sa.String(200), default="")
    #: Scope of the certification.
    scope: Mapped[str] = mapped_column(sa.Text, default="")
    #: Date of declaration or certification.
    issued_on: Mapped[date | None] = mapped_column(sa.Date)
    #: Expiry date (有効期限); None where the scheme has none.
    expires_on: Mapped[date | None] = mapped_column(sa.Date, index=True)
    #: Cyber insurance only: coverage limit (補償限度額) in yen.
    coverage_limit_jpy: Mapped[int | None] = mapped_column(sa.BigInteger)
    #: Free-text notes.
    notes: Mapped[str] = mapped_column(sa.Text, default="")
    #: Evidence (証跡ファイル), when uploaded.
    evidence_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("stored_files.id", ondelete="SET NULL")
    )

    supplier = relationship("Supplier", back_populates="attestations")
    evidence = relationship("StoredFile", lazy="joined")

    __table_args__ = (
        sa.CheckConstraint(
            "(kind = 'security_action') = (level IS NOT NULL)", name="level_only_for_sa"
        ),
        sa.CheckConstraint(
            "coverage_limit_jpy IS NULL OR coverage_limit_jpy > 0", name="coverage_positive"
        ),
        sa.CheckConstraint(
            "(kind = 'scs') = (scs_level IS NOT NULL)", name="scs_level_only_for_scs"
        ),
        one_of("scs_level", SCS_LEVELS, nullable=True),
        one_of("evaluation", ScsEvaluation, nullable=True),
    )

    @hybrid_method
    def valid_on(self, day: date) -> bool:
        """Valid on `day`: no expiry date, or expiring that day or later."""
        return self.expires_on is None or self.expires_on >= day

    @valid_on.inplace.expression
    @classmethod
    def _valid_on_sql(cls, day: date) -> sa.ColumnElement[bool]:
        return sa.or_(cls.expires_on.is_(None), cls.expires_on >= day)

    def expires_within(self, today: date, days: int) -> bool:
        """Still valid today, and expiring within `days` days."""
        if self.expires_on is None or not self.valid_on(today):
            return False
        return (self.expires_on - today).days <= days

"""The supplier register: suppliers (取引先) and their contacts (取引先担当者)."""

from __future__ import annotations

import enum
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.ext.hybrid import hybrid_method
from sqlalchemy.orm import Mapped, mapped_column, relationship

from vendorrisk.extensions import db
from vendorrisk.models.base import TimestampMixin, UTCDateTime, enum_column, one_of
from vendorrisk.vocab import SCS_LEVELS, Locale, Outage, Replaceability, Tier


class SupplierCategory(enum.StrEnum):
    group_company = "group_company"
    business_partner = "business_partner"
    outsourcing_contractor = "outsourcing_contractor"
    cloud_service = "cloud_service"
    other = "other"


class SupplierStatus(enum.StrEnum):
    onboarding = "onboarding"
    active = "active"
    #: Its offboarding checklist (取引終了手続き) is open: still live in the roll-up.
    offboarding = "offboarding"
    #: Its checklist is complete, or an exception was approved (models/offboarding.py).
    offboarded = "offboarded"


class Criticality(enum.StrEnum):
    low = "low"
    medium = "medium"
    high = "high"
    critical = "critical"


#: The kinds of data and access a supplier may have: the Supplier column of each.
SHARING_FLAGS = (
    "shares_personal_info",
    "shares_confidential_info",
    "has_network_access",
    "has_admin_access",
)


def localized_name(name_ja: str, name_en: str, locale: str) -> str:
    """A supplier's name for a reader of `locale`: English when asked and known, else Japanese."""
    if locale == Locale.en and name_en:
        return name_en
    return name_ja or name_en


class Supplier(TimestampMixin, db.Model):
    __tablename__ = "suppliers"
    __audited__ = True
    __table_args__ = (
        one_of("max_outage", Outage, name="outage"),
        one_of("replaceability", Replaceability),
        one_of("required_level_raised", SCS_LEVELS, nullable=True),
        one_of("tier", Tier, nullable=True),
        sa.CheckConstraint("parent_id IS NULL OR parent_id <> id", name="not_own_parent"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Name in Japanese (as registered).
    name_ja: Mapped[str] = mapped_column(sa.String(200), index=True)
    #: Name in English (romanised or official English name).
    name_en: Mapped[str] = mapped_column(sa.String(200), default="", index=True)
    #: 法人番号: 13 digits with a check digit; None for foreign companies.
    corporate_number: Mapped[str | None] = mapped_column(sa.String(13), unique=True)
    #: Kind of supplier.
    category: Mapped[SupplierCategory] = mapped_column(
        enum_column(SupplierCategory, "supplier_category"), index=True
    )
    #: Lifecycle status.
    status: Mapped[SupplierStatus] = mapped_column(
        enum_column(SupplierStatus, "supplier_status"),
        default=SupplierStatus.onboarding,
        index=True,
    )
    #: Our person responsible for the supplier (社内担当者).
    owner_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    #: The business unit (部門) that owns it: only that unit's procurement and reviewers see it
    #: (vendorrisk/scoping.py); None: the whole company's.
    unit_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("business_units.id", ondelete="RESTRICT"), index=True
    )
    #: How much our business depends on it.
    criticality: Mapped[Criticality] = mapped_column(
        enum_column(Criticality, "supplier_criticality"), default=Criticality.medium, index=True
    )
    #: Services it provides to us.
    services: Mapped[str] = mapped_column(sa.Text, default="")
    #: Country of the company (ISO 3166-1 alpha-2).
    country: Mapped[str] = mapped_column(sa.String(2), default="JP")
    #: Public web site.
    website: Mapped[str] = mapped_column(sa.String(300), default="")
    #: It handles personal information we entrust to it.
    shares_personal_info: Mapped[bool] = mapped_column(default=False)
    #: Our confidential information (trade secrets etc.) sits on its systems.
    shares_confidential_info: Mapped[bool] = mapped_column(default=False)
    #: It has a network connection into our systems.
    has_network_access: Mapped[bool] = mapped_column(default=False)
    #: It has administrator access to our systems.
    has_admin_access: Mapped[bool] = mapped_column(default=False)
    #: Free-text notes.
    notes: Mapped[str] = mapped_column(sa.Text, default="")
    #: How long we could bear its stopping (a vocab.Outage).
    max_outage: Mapped[str] = mapped_column(
        sa.String(10), default=Outage.weeks.value, server_default=Outage.weeks.value
    )
    #: How easily it could be replaced (a vocab.Replaceability).
    replaceability: Mapped[str] = mapped_column(
        sa.String(10),
        default=Replaceability.moderate.value,
        server_default=Replaceability.moderate.value,
    )
    #: The SCS level asked of it when a person raised it above the rules' (★3 → ★4: METI's flow
    #: leaves further factors to the buyer); None while the rules decide. History in
    #: RequiredLevelChange.
    required_level_raised: Mapped[str | None] = mapped_column(sa.String(10))
    #: Risk tier (リスク区分, a vocab.Tier); None until first decided.
    tier: Mapped[str | None] = mapped_column(sa.String(10), index=True)
    #: Who set the tier (a vocab.TierSource): a person's override is kept until a person changes it.
    tier_source: Mapped[str | None] = mapped_column(sa.String(10))
    #: Overall score of the latest completed assessment.
    latest_score: Mapped[float | None] = mapped_column(sa.Float, index=True)
    #: When that assessment was completed.
    latest_score_on: Mapped[date | None] = mapped_column(sa.Date)
    #: Date of the next periodic re-check (定期再評価).
    next_review_on: Mapped[date | None] = mapped_column(sa.Date, index=True)
    #: The supplier above it in a chain: its holding company (系列企業) or the supplier that uses
    #: it as a subcontractor (再委託先); None at the top. No cycle, at most chain.MAX_DEPTH levels
    #: below the top (services/register/chain.py keeps both rules).
    parent_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("suppliers.id", ondelete="SET NULL"), index=True
    )
    #: The record came from its parent's questionnaire answers, not from our own register work.
    reported_by_parent: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    #: When procurement looked at a record its parent reported (UTC); None = not yet reviewed.
    chain_reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: The day we approved its use as a subcontractor (再委託) by its parent; None = not known.
    subcontracting_approved_on: Mapped[date | None] = mapped_column(sa.Date)
    #: The parent's assessment whose list of subcontractors last reported it (or changed it).
    #: use_alter: assessments point at suppliers too; the cycle is broken for CREATE and DROP.
    reported_in_assessment_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("assessments.id", ondelete="SET NULL", use_alter=True), index=True
    )

    owner = relationship("User")
    unit = relationship("BusinessUnit")
    contacts: Mapped[list[Contact]] = relationship(
        back_populates="supplier", cascade="all, delete-orphan", order_by="Contact.id"
    )
    contracts = relationship(
        "Contract",
        back_populates="supplier",
        cascade="all, delete-orphan",
        order_by="Contract.starts_on.desc()",
    )
    assessments = relationship(
        "Assessment",
        back_populates="supplier",
        cascade="all, delete-orphan",
        order_by="Assessment.id",
        foreign_keys="Assessment.supplier_id",
    )
    attestations = relationship(
        "Attestation",
        back_populates="supplier",
        cascade="all, delete-orphan",
        order_by="Attestation.kind",
    )

    @hybrid_method
    def is_review_overdue(self, today: date) -> bool:
        """The next periodic re-check is past (the "Overdue" badge on the re-check date)."""
        return self.next_review_on is not None and self.next_review_on < today

    @is_review_overdue.inplace.expression
    @classmethod
    def _is_review_overdue_sql(cls, today: date) -> sa.ColumnElement[bool]:
        return sa.and_(cls.next_review_on.is_not(None), cls.next_review_on < today)

    @property
    def chain_review_pending(self) -> bool:
        """Reported by its parent and not yet looked at by procurement."""
        return self.reported_by_parent and self.chain_reviewed_at is None

    @property
    def display_name(self) -> str:
        return self.name_ja or self.name_en

    def name_for(self, locale: str) -> str:
        return localized_name(self.name_ja, self.name_en, locale)

    def __repr__(self) -> str:
        return f"<Supplier {self.id} {self.name_ja}>"


class Contact(TimestampMixin, db.Model):
    __tablename__ = "contacts"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The supplier this person works for.
    supplier_id: Mapped[int] = mapped_column(
        sa.ForeignKey("suppliers.id", ondelete="CASCADE"), index=True
    )
    #: Full name.
    name: Mapped[str] = mapped_column(sa.String(200))
    #: Email address questionnaires are sent to.
    email: Mapped[str] = mapped_column(sa.String(254))
    #: Telephone number.
    phone: Mapped[str] = mapped_column(sa.String(40), default="")
    #: Department (部署).
    department: Mapped[str] = mapped_column(sa.String(200), default="")
    #: Job title (役職).
    job_title: Mapped[str] = mapped_column(sa.String(200), default="")
    #: Language for emails and the portal (a vocab.Locale).
    locale: Mapped[str] = mapped_column(sa.String(5), default=Locale.ja.value)
    #: The main contact for security questionnaires.
    is_primary: Mapped[bool] = mapped_column(default=False)
    #: Set when mail to this address bounced permanently.
    undeliverable_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: The contact who added this one from the portal (担当者の追加); None if staff added it.
    added_by_contact_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("contacts.id", ondelete="SET NULL")
    )
    #: When a contact added this one from the portal (UTC).
    added_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    supplier: Mapped[Supplier] = relationship(back_populates="contacts")
    added_by: Mapped[Contact | None] = relationship(remote_side=[id])

    __table_args__ = (
        sa.UniqueConstraint("supplier_id", "email", name="uq_contacts_supplier_email"),
        one_of("locale", Locale),
    )

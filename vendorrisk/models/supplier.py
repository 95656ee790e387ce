"""The supplier register: suppliers (取引先) and their contacts (取引先担当者)."""

from __future__ import annotations

import enum
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from vendorrisk.extensions import db
from vendorrisk.models.base import TimestampMixin, UTCDateTime, enum_column


class SupplierCategory(enum.StrEnum):
    group_company = "group_company"
    business_partner = "business_partner"
    outsourcing_contractor = "outsourcing_contractor"
    cloud_service = "cloud_service"
    other = "other"


class SupplierStatus(enum.StrEnum):
    onboarding = "onboarding"
    active = "active"
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
    if locale == "en" and name_en:
        return name_en
    return name_ja or name_en


class Supplier(TimestampMixin, db.Model):
    __tablename__ = "suppliers"
    __audited__ = True
    __table_args__ = (
        sa.CheckConstraint("max_outage IN ('hours', 'days', 'weeks', 'months')", name="outage"),
        sa.CheckConstraint("replaceability IN ('easy', 'moderate', 'hard')", name="replaceability"),
        sa.CheckConstraint(
            "scs_level IS NULL OR scs_level IN ('star3', 'star4', 'star5')", name="scs_level"
        ),
        sa.CheckConstraint(
            "tier IS NULL OR tier IN ('low', 'medium', 'high', 'critical')", name="tier"
        ),
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
    #: How long we could bear its stopping.
    max_outage: Mapped[str] = mapped_column(sa.String(10), default="weeks", server_default="weeks")
    #: How easily it could be replaced: easy, moderate, hard.
    replaceability: Mapped[str] = mapped_column(
        sa.String(10), default="moderate", server_default="moderate"
    )
    #: METI SCS evaluation level held (star3/star4/star5), if evaluated.
    scs_level: Mapped[str | None] = mapped_column(sa.String(10))
    #: Until when the SCS evaluation is valid.
    scs_expires_on: Mapped[date | None] = mapped_column(sa.Date)
    #: Risk tier (重要度): critical, high, medium, low; None until first decided.
    tier: Mapped[str | None] = mapped_column(sa.String(10), index=True)
    #: "rule" or "manual" (a person's override, kept until changed by a person).
    tier_source: Mapped[str | None] = mapped_column(sa.String(10))
    #: Overall score of the latest completed assessment.
    latest_score: Mapped[float | None] = mapped_column(sa.Float, index=True)
    #: When that assessment was completed.
    latest_score_on: Mapped[date | None] = mapped_column(sa.Date)
    #: Date of the next periodic re-check (定期再評価).
    next_review_on: Mapped[date | None] = mapped_column(sa.Date, index=True)

    owner = relationship("User")
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
    )
    attestations = relationship(
        "Attestation",
        back_populates="supplier",
        cascade="all, delete-orphan",
        order_by="Attestation.kind",
    )

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
    #: Language for emails and the portal: "ja" or "en".
    locale: Mapped[str] = mapped_column(sa.String(5), default="ja")
    #: The main contact for security questionnaires.
    is_primary: Mapped[bool] = mapped_column(default=False)
    #: Set when mail to this address bounced permanently.
    undeliverable_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    supplier: Mapped[Supplier] = relationship(back_populates="contacts")

    __table_args__ = (
        sa.UniqueConstraint("supplier_id", "email", name="uq_contacts_supplier_email"),
        sa.CheckConstraint("locale IN ('ja', 'en')", name="locale"),
    )

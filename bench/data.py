"""The benchmark's data set: a register as a company of N suppliers has it, on SQLite or PostgreSQL.

`build(url, n, seed)` makes the schema with the migrations (as `vendorrisk db upgrade` does) and
fills it; `populate(n, seed)` fills the schema of the current app context (the smoke test). What
is made, all of it from one seed:

- 40 procurement owners, a CISO, an admin and a security reviewer (passwords already chosen,
  no second factor: they log in through the real form);
- N suppliers of every category and status, about 5% under a group head, each with a risk
  profile and the tier, score and re-check date the tier rules give; one or two contacts;
- attestations: SECURITY ACTION, ISMS, Privacy Mark, SCS ★3/★4, ISMAP, cyber insurance, with
  expiries spread around today; one or two contracts with their Direction 9 clauses;
- three yearly cycles of the real supplier questionnaire (csm-v3-supplier) completed for every
  supplier past onboarding, with answers (from 40 answer patterns), the score and its detail,
  the area scores a review stores on completion (services/review/review.py), invitations;
- an open assessment (sent, its answers carried over from the last cycle as
  services/assessments/lifecycle.py does) for a third of the live suppliers, with an emailed link
  whose token `token_for(seed, assessment_id)` gives; one in ten of them has every answer
  confirmed, ready to submit;
- findings from the latest cycle in every state, and four quarters of roll-up snapshots (the
  current one by the app's own capture).

Rows go in with multi-row inserts (executemany on SQLite, COPY on PostgreSQL) and explicit ids;
PostgreSQL's sequences are then set past every id, so a write through the app takes the next.
Run: .venv/bin/python bench/data.py URL N [--seed S]   (URL: sqlite:///file or postgresql+psycopg://)
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import itertools
import json
import logging
import operator
import random
import sys
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

if __package__ in (None, ""):  # run as a script: the repository's root on the path
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from vendorrisk import clock
from vendorrisk.catalog import catalog
from vendorrisk.extensions import db
from vendorrisk.models import (
    CONTRACT_CLAUSES,
    Answer,
    AreaScore,
    Assessment,
    Attestation,
    Contact,
    Contract,
    Finding,
    Invitation,
    RollupSnapshot,
    Supplier,
    User,
)
from vendorrisk.models.base import UTCDateTime
from vendorrisk.models.mixins import hash_token
from vendorrisk.scoring import scores as scoring
from vendorrisk.scoring.answers import is_visible
from vendorrisk.scoring.tiers import (
    DEFAULT_CADENCE,
    Profile,
    decide_tier,
    inherent_risk,
    next_review,
)
from vendorrisk.services.reporting import history
from vendorrisk.services.users import accounts
from vendorrisk.validation import corporate_number_check_digit

TEMPLATE = "csm-v3-supplier"
#: Every seeded user's password (a throwaway database).
PASSWORD = "bench-password-0123456789"  # noqa: S105  # nosec B105
OWNERS = 40
CISO_EMAIL = "ciso@example.co.jp"
ADMIN_EMAIL = "admin@example.co.jp"
REVIEWER_EMAIL = "reviewer@example.co.jp"
CYCLES = 3
PATTERNS = 40
#: The columns of the answers' rows, in the order Register._answers gives them.
ANSWER_COLUMNS = ("id", "assessment_id", "question_id", "value", "comment", "carried_over",
                  "version", "contact_id", "updated_at", "reopened")  # fmt: skip
#: Suppliers generated and written at a time (keeps memory flat at 30,000 suppliers).
CHUNK = 1000
#: Suppliers at the top of a group (ids 1..HEADS): about 5% of the others sit under one.
HEADS = 20

CATEGORIES = (
    ("group_company", 5), ("business_partner", 30), ("outsourcing_contractor", 45),
    ("cloud_service", 15), ("other", 5),
)  # fmt: skip
STATUSES = (("active", 90), ("onboarding", 4), ("offboarding", 1), ("offboarded", 5))
CRITICALITY = (("low", 30), ("medium", 40), ("high", 22), ("critical", 8))
OUTAGES = ("hours", "days", "weeks", "months")
REPLACEABILITY = ("hard", "moderate", "easy")
SEVERITIES = (("low", 30), ("medium", 40), ("high", 22), ("critical", 8))
FINDING_STATUSES = (("open", 40), ("in_progress", 25), ("resolved", 30), ("risk_accepted", 5))
ISSUERS = ("JQA", "BSIグループジャパン", "LRQA", "JACO", "DNV")
INSURERS = ("東京海上日動", "損保ジャパン", "三井住友海上", "あいおいニッセイ同和")
FINDING_TITLES = (
    "アクセスログの保管期間が不足",
    "委託先管理規程が未整備",
    "インシデント報告の手順が未定義",
    "バックアップからの復旧訓練が未実施",
    "特権IDの棚卸が年1回未満",
)


def pick(rng: random.Random, weighted: tuple[tuple[str, int], ...]) -> str:
    return rng.choices([v for v, _ in weighted], [w for _, w in weighted])[0]


def token_for(seed: int, assessment_id: int) -> str:
    """The emailed link's token of an open assessment (256 bits, derived from the seed)."""
    digest = hashlib.sha256(f"vendorrisk-bench:{seed}:{assessment_id}".encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


# -- answer patterns -------------------------------------------------------------------------


@dataclass(frozen=True)
class Pattern:
    """One way a supplier answered the whole questionnaire, scored as a review scores it."""

    answers: dict[str, Any]
    score: float | None
    detail: dict[str, Any]
    areas: dict[str, float]
    #: The same answers with no evidence question left needing a file: submittable as they are.
    confirmed: dict[str, Any]


def _visible(template, answers: dict[str, Any]) -> dict[str, Any]:
    shown = {}
    for q in template.questions:
        if q.id in answers and is_visible(template, q, answers):
            shown[q.id] = answers[q.id]
    return shown


def _without_evidence(template, answers: dict[str, Any]) -> dict[str, Any]:
    out = dict(answers)
    for q in template.questions:
        if q.evidence and out.get(q.id) in ("yes", "partial"):
            out[q.id] = "na" if "na" in q.kind.values(q) else "no"
    return _visible(template, out)


def patterns(template, rng: random.Random) -> list[Pattern]:
    """PATTERNS answer sets of every answerable question (file questions need files: left out)."""
    made = []
    for _ in range(PATTERNS):
        drawn = {q.id: q.kind.sample(q, rng) for q in template.questions if q.type != "file"}
        answers = _visible(template, drawn)
        result = scoring.score(template, answers)
        made.append(
            Pattern(
                answers=answers,
                score=result.overall,
                detail=result.to_dict(),
                areas=AreaScore.values_of(scoring.area_scores(template, result)),
                confirmed=_without_evidence(template, answers),
            )
        )
    return made


# -- writing ------------------------------------------------------------------------------------


class Writer:
    """Bulk rows into the tables of one connection: COPY on PostgreSQL, executemany on SQLite.

    Both go through the driver's own cursor in the connection's transaction: SQLAlchemy's
    per-value bind processing cost more than the database's work. Values are encoded here as the
    models' types store them (JSON text; on SQLite, datetimes as SQLAlchemy writes them).
    """

    def __init__(self, conn: sa.Connection) -> None:
        self.conn = conn
        self.postgres = conn.dialect.name == "postgresql"
        self.rows = 0
        self._json: dict[str | int, tuple[Any, str]] = {}
        self._moments: dict[datetime, str] = {}

    def _encode_json(self, value: Any) -> str | None:
        """JSON text, each distinct value encoded once: answers are a few strings, and the
        lists and score details are the 40 patterns' own objects, shared by many rows."""
        if value is None:
            return None
        key = value if isinstance(value, str) else id(value)
        found = self._json.get(key)
        if found is None or found[0] is not value:  # (an id is only unique while it lives)
            found = self._json[key] = (value, json.dumps(value, ensure_ascii=False))
        return found[1]

    def _encode_moment(self, value: datetime | None) -> str | None:
        if value is None:
            return None
        found = self._moments.get(value)
        if found is None:
            utc = value.astimezone(UTC)
            found = self._moments[value] = utc.strftime("%Y-%m-%d %H:%M:%S.%f")
        return found

    def _encoder(self, column: sa.Column):
        kind = column.type
        if isinstance(kind, sa.JSON):
            return self._encode_json
        if self.postgres:
            return None
        if isinstance(kind, UTCDateTime | sa.DateTime):
            return self._encode_moment
        if isinstance(kind, sa.Date):
            return lambda v: None if v is None else v.isoformat()
        return None

    def write(self, model, rows: list, names: tuple[str, ...] | None = None) -> None:
        """Insert `rows`: dicts, or tuples of the columns `names`."""
        if not rows:
            return
        table = model.__table__
        if names is None:
            names = tuple(rows[0])
            rows = list(map(operator.itemgetter(*names), rows))
        encoded = [
            (i, e) for i, e in enumerate(map(self._encoder, (table.c[n] for n in names))) if e
        ]

        def values(row: tuple) -> tuple | list:
            if not encoded:
                return row
            out = list(row)
            for i, encode in encoded:
                out[i] = encode(out[i])
            return out

        self.rows += len(rows)
        columns = ", ".join(f'"{name}"' for name in names)
        cursor = self.conn.connection.driver_connection.cursor()
        try:
            if self.postgres:
                with cursor.copy(f'COPY "{table.name}" ({columns}) FROM STDIN') as copy:
                    for row in rows:
                        copy.write_row(values(row))
            else:
                marks = ", ".join("?" * len(names))
                insert = f'INSERT INTO "{table.name}" ({columns}) VALUES ({marks})'  # noqa: S608 - the models' names
                cursor.executemany(insert, map(values, rows))
        finally:
            cursor.close()


def advance_sequences(conn: sa.Connection) -> None:
    """PostgreSQL: every id sequence set to its table's largest id (the next insert takes the
    one after). SQLite takes max(rowid) + 1 by itself."""
    if conn.dialect.name != "postgresql":
        return
    for table in db.metadata.sorted_tables:
        if "id" not in table.c or not table.c.id.primary_key:
            continue
        sequence = conn.scalar(
            sa.text("SELECT pg_get_serial_sequence(:t, 'id')"), {"t": table.name}
        )
        if sequence is None:
            continue
        conn.execute(
            sa.text(
                f'SELECT setval(:s, COALESCE(MAX(id), 1), MAX(id) IS NOT NULL) FROM "{table.name}"'  # noqa: S608 - a table name of the models
            ),
            {"s": sequence},
        )


# -- the register ---------------------------------------------------------------------------------


class Ids:
    """The next id of each table written with explicit ids (1, 2, ... per table)."""

    def __init__(self) -> None:
        self._counters: dict[str, Iterator[int]] = {}

    def take(self, name: str) -> int:
        return next(self._counters.setdefault(name, itertools.count(1)))


def users(now: datetime) -> list[dict[str, Any]]:
    password_hash = accounts.hash_password(PASSWORD)  # argon2id once: every user shares it
    rows = [
        {"email": f"owner{i:02d}@example.co.jp", "name": f"調達 担当{i:02d}", "role": "procurement"}
        for i in range(1, OWNERS + 1)
    ]
    rows += [
        {"email": CISO_EMAIL, "name": "佐藤 CISO", "role": "ciso"},
        {"email": ADMIN_EMAIL, "name": "管理者", "role": "admin"},
        {"email": REVIEWER_EMAIL, "name": "鈴木 レビュー", "role": "reviewer"},
    ]
    return [
        r | {
            "id": i, "password_hash": password_hash, "locale": "ja", "active": True,
            "must_change_password": False, "mfa_failures": 0, "created_at": now, "updated_at": now,
        }
        for i, r in enumerate(rows, start=1)
    ]  # fmt: skip


class Register:
    """Generates the rows of one chunk of suppliers at a time."""

    def __init__(self, n: int, seed: int, today: date, now: datetime) -> None:
        self.n, self.seed, self.today, self.now = n, seed, today, now
        self.rng = random.Random(seed)  # noqa: S311 - made-up data, not a secret  # nosec B311
        self.template = catalog().get(TEMPLATE)
        if self.template is None:
            raise RuntimeError(f"the questionnaire {TEMPLATE} is missing")
        self.patterns = patterns(self.template, self.rng)
        self.ids = Ids()
        self.ciso, self.reviewer = OWNERS + 1, OWNERS + 3
        self.tiers: dict[tuple, str] = {}

    def _tier(self, profile: Profile, score: float | None) -> str:
        key = (profile, score)
        if key not in self.tiers:
            self.tiers[key] = decide_tier(inherent_risk(profile), score).tier
        return self.tiers[key]

    def chunk(self, first: int, last: int) -> dict[type, list[dict[str, Any]]]:
        rows: dict[type, list[dict[str, Any]]] = {
            m: [] for m in (Supplier, Contact, Assessment, Invitation, Answer, AreaScore,
                            Attestation, Contract, Finding)
        }  # fmt: skip
        for i in range(first, last + 1):
            self._supplier(i, rows)
        return rows

    def _supplier(self, i: int, rows) -> None:
        rng, now, _today = self.rng, self.now, self.today
        stamps = {"created_at": now - timedelta(days=1500 - i % 400), "updated_at": now}
        category = pick(rng, CATEGORIES)
        status = pick(rng, STATUSES)
        base = f"{i + 100_000_000_000:012d}"
        profile = Profile(
            shares_personal_info=rng.random() < 0.35,
            shares_confidential_info=rng.random() < 0.3,
            has_network_access=rng.random() < 0.2,
            has_admin_access=rng.random() < 0.08,
            max_outage=rng.choice(OUTAGES),
            replaceability=rng.choice(REPLACEABILITY),
            criticality=pick(rng, CRITICALITY),
        )
        owner = rng.randint(1, OWNERS)
        cycles = 0 if status == "onboarding" else CYCLES
        drawn = [rng.randrange(PATTERNS) for _ in range(cycles)]
        latest = self.patterns[drawn[-1]] if drawn else None
        tier = self._tier(profile, latest.score if latest else None)
        # Reviews a cadence apart, the last one within the cadence (a few days more for about 1%
        # overdue): the re-checks fall due evenly over the days, as in a register in use.
        cadence = round(DEFAULT_CADENCE[tier] * 30.44)
        offset = rng.randrange(cadence + 3)
        latest_on = (now - timedelta(days=offset)).date() if drawn else None
        contact = self.ids.take("contact")
        rows[Supplier].append(
            {
                "id": i, "name_ja": f"株式会社サプライ{i:05d}",
                "name_en": f"Supply {i:05d} Co., Ltd.",
                "corporate_number": f"{corporate_number_check_digit(base)}{base}",
                "category": category, "status": status, "owner_id": owner,
                "criticality": profile.criticality, "services": "システム運用保守、データ入力業務",
                "country": "JP", "website": f"https://s{i}.example.jp", "notes": "",
                "shares_personal_info": profile.shares_personal_info,
                "shares_confidential_info": profile.shares_confidential_info,
                "has_network_access": profile.has_network_access,
                "has_admin_access": profile.has_admin_access,
                "max_outage": profile.max_outage.value,
                "replaceability": profile.replaceability.value,
                "tier": tier, "tier_source": "rule",
                "latest_score": latest.score if latest else None, "latest_score_on": latest_on,
                "next_review_on": next_review(latest_on, tier) if latest_on else None,
                "parent_id": rng.randint(1, HEADS) if i > HEADS and rng.random() < 0.05 else None,
                "reported_by_parent": False, **stamps,
            }
        )  # fmt: skip
        rows[Contact].append(self._contact(contact, i, 1, True, stamps))
        if rng.random() < 0.3:
            rows[Contact].append(self._contact(self.ids.take("contact"), i, 2, False, stamps))
        self._attestations(i, category, rows, stamps)
        self._contracts(i, rows, stamps)
        previous = None
        for cycle, k in enumerate(drawn):
            days = offset + cadence * (cycles - 1 - cycle)
            done = now - timedelta(days=days, hours=rng.randrange(9))
            previous = self._completed(i, owner, contact, self.patterns[k], done, previous, rows)
        if previous is not None:
            self._findings(i, owner, previous, rows)
        if previous is not None and status in ("active", "offboarding") and rng.random() < 1 / 3:
            self._open(i, owner, contact, latest, previous, rows)

    def _contact(self, cid: int, i: int, n: int, primary: bool, stamps) -> dict[str, Any]:
        return {
            "id": cid, "supplier_id": i, "name": f"担当 {i:05d}-{n}",
            "email": f"security{n}@s{i}.example.jp", "phone": "03-1234-5678",
            "department": "情報システム部", "job_title": "課長",
            "locale": "en" if self.rng.random() < 0.1 else "ja", "is_primary": primary, **stamps,
        }  # fmt: skip

    def _attestation(self, i: int, kind: str, stamps, **fields) -> dict[str, Any]:
        base = {
            "id": self.ids.take("attestation"), "supplier_id": i, "kind": kind, "level": None,
            "scs_level": None, "evaluation": None, "ledger_ref": "", "covers_service": False,
            "name": "", "identifier": f"{kind.upper()}-{i:06d}", "issuer": "", "scope": "",
            "issued_on": None, "expires_on": None, "coverage_limit_jpy": None, "notes": "",
            "confirmed_on": None, "evidence_id": None,
        }  # fmt: skip
        return base | fields | stamps

    def _attestations(self, i: int, category: str, rows, stamps) -> None:
        rng, today, out = self.rng, self.today, rows[Attestation]
        if rng.random() < 0.5:
            level = "star2" if rng.random() < 0.4 else "star1"
            issued = today - timedelta(days=rng.randrange(30, 1500))
            confirmed = max(issued, today - timedelta(days=rng.randrange(370)))  # yearly checks
            out.append(self._attestation(i, "security_action", stamps, level=level,
                                         issued_on=issued, confirmed_on=confirmed))  # fmt: skip
        if rng.random() < 0.4:
            expires = today + timedelta(days=rng.randrange(-60, 1095))
            out.append(self._attestation(
                i, "isms", stamps, issuer=rng.choice(ISSUERS), scope="本社 情報システム部門",
                covers_service=rng.random() < 0.7, issued_on=expires - timedelta(days=1095),
                expires_on=expires))  # fmt: skip
        if rng.random() < 0.15:
            expires = today + timedelta(days=rng.randrange(-30, 730))
            out.append(self._attestation(i, "pmark", stamps, issuer="JIPDEC", expires_on=expires))
        if rng.random() < 0.1:
            third = rng.random() < 0.3
            out.append(self._attestation(
                i, "scs", stamps, scs_level="star4" if third else "star3",
                evaluation="third_party" if third else "self", ledger_ref=f"SCS-{i:06d}",
                expires_on=today + timedelta(days=rng.randrange(-30, 730))))  # fmt: skip
        if category == "cloud_service" and rng.random() < 0.5:
            out.append(
                self._attestation(
                    i, "ismap", stamps, expires_on=today + timedelta(days=rng.randrange(700))
                )
            )
        if rng.random() < 0.4:
            expires = today + timedelta(days=rng.randrange(-45, 365))
            out.append(self._attestation(
                i, "cyber_insurance", stamps, issuer=rng.choice(INSURERS),
                coverage_limit_jpy=rng.choice((50, 100, 300, 500)) * 1_000_000,
                issued_on=expires - timedelta(days=365), expires_on=expires))  # fmt: skip

    def _contracts(self, i: int, rows, stamps) -> None:
        rng, today = self.rng, self.today
        for n in range(2 if rng.random() < 0.2 else 1):
            starts = today - timedelta(days=rng.randrange(30, 2000))
            ends = None if rng.random() < 0.3 else today + timedelta(days=rng.randrange(-90, 900))
            clauses = {c: rng.random() < 0.8 for c in CONTRACT_CLAUSES}
            rows[Contract].append(
                {
                    "id": self.ids.take("contract"), "supplier_id": i,
                    "title": "業務委託基本契約" if n == 0 else "個別契約（保守）",
                    "reference": f"K-{i:05d}-{n}", "starts_on": starts,
                    "ends_on": max(ends, starts) if ends else None, **clauses,
                    "incident_notification_hours": rng.choice((24, 48, 72))
                    if clauses["clause_incident_notification"] else None,
                    "required_scs_level": None, "required_scs_by": None, "notes": "", **stamps,
                }
            )  # fmt: skip

    def _assessment(self, aid: int, i: int, owner: int, **fields) -> dict[str, Any]:
        base = {
            "id": aid, "supplier_id": i, "template_id": self.template.id,
            "template_version": self.template.version, "message": "", "campaign_id": None,
            "created_by_id": owner, "reviewer_id": None, "decision": None, "review_note": "",
            "score": None, "score_detail": None, "submitted_at": None, "completed_at": None,
            "carried_over_from_id": None,
        }  # fmt: skip
        return base | fields

    def _invitation(self, aid: int, contact: int, i: int, sent: datetime, token_hash: str,
                    expires: datetime, used: bool) -> dict[str, Any]:  # fmt: skip
        return {
            "id": self.ids.take("invitation"), "assessment_id": aid, "contact_id": contact,
            "email": f"security1@s{i}.example.jp", "locale": "ja", "token_hash": token_hash,
            "created_at": sent, "expires_at": expires, "first_used_at": sent if used else None,
            "last_used_at": sent if used else None, "use_count": 1 if used else 0,
        }  # fmt: skip

    def _answers(self, aid: int, contact: int, values: dict[str, Any], at: datetime,
                 carried: bool) -> Iterator[tuple]:  # fmt: skip
        """The rows of ANSWER_COLUMNS (tuples: the largest table by far)."""
        by, take = None if carried else contact, self.ids.take
        for qid, value in values.items():
            yield (take("answer"), aid, qid, value, "", carried, 1, by, at, False)

    def _completed(self, i, owner, contact, pattern: Pattern, done, previous, rows) -> int:
        rng = self.rng
        aid = self.ids.take("assessment")
        sent, submitted = done - timedelta(days=45), done - timedelta(days=rng.randrange(3, 15))
        decision = pick(rng, (("approved", 70), ("approved_with_conditions", 25), ("rejected", 5)))
        rows[Assessment].append(
            self._assessment(
                aid, i, owner, status="completed", due_on=(sent + timedelta(days=30)).date(),
                sent_at=sent, submitted_at=submitted, completed_at=done, decision=decision,
                review_note="" if decision == "approved" else "是正計画の提出を条件とする",
                reviewer_id=self.reviewer, score=pattern.score, score_detail=pattern.detail,
                carried_over_from_id=previous, created_at=sent, updated_at=done,
            )
        )  # fmt: skip
        done_hash = hashlib.sha256(f"done:{self.seed}:{aid}".encode()).hexdigest()
        rows[Invitation].append(
            self._invitation(aid, contact, i, sent, done_hash, sent + timedelta(days=44), True)
        )
        rows[Answer].extend(self._answers(aid, contact, pattern.answers, submitted, False))
        area = dict.fromkeys(AreaScore.__table__.c.keys()) | pattern.areas
        rows[AreaScore].append(area | {"assessment_id": aid, "supplier_id": i})
        return aid

    def _findings(self, i: int, owner: int, assessment: int, rows) -> None:
        rng, today = self.rng, self.today
        if rng.random() > 0.3:
            return
        for _ in range(rng.randint(1, 3)):
            status = pick(rng, FINDING_STATUSES)
            accepted = status == "risk_accepted"
            rows[Finding].append(
                {
                    "id": self.ids.take("finding"), "supplier_id": i, "assessment_id": assessment,
                    "question_id": None, "title": rng.choice(FINDING_TITLES),
                    "severity": pick(rng, SEVERITIES),
                    "required_action": "規程を整備し提出すること。",
                    "due_on": today + timedelta(days=rng.randrange(-90, 180)), "owner_id": owner,
                    "status": status, "visible_to_supplier": True, "supplier_plan": "",
                    "supplier_plan_at": None,
                    "resolved_at": self.now if status == "resolved" else None,
                    "accepted_by_id": self.ciso if accepted else None,
                    "accepted_reason": "代替策で低減済み" if accepted else "",
                    "accepted_until": today + timedelta(days=rng.randrange(-30, 365))
                    if accepted else None,
                    "created_at": self.now - timedelta(days=rng.randrange(1, 300)),
                    "updated_at": self.now,
                }
            )  # fmt: skip

    def _open(self, i, owner, contact, latest: Pattern, previous: int, rows) -> None:
        """The year's questionnaire, sent: answers carried over (one in ten confirmed)."""
        rng, now = self.rng, self.now
        aid = self.ids.take("assessment")
        sent = now - timedelta(days=rng.randrange(1, 40))
        due = self.today + timedelta(days=rng.randrange(-20, 40))
        ready = rng.random() < 0.1
        rows[Assessment].append(
            self._assessment(
                aid, i, owner, status="in_progress" if ready else "sent", due_on=due,
                sent_at=sent, carried_over_from_id=previous, created_at=sent, updated_at=sent,
            )
        )  # fmt: skip
        expires = datetime.combine(due, datetime.min.time(), UTC) + timedelta(days=15)
        token_hash = hash_token(token_for(self.seed, aid))
        rows[Invitation].append(self._invitation(aid, contact, i, sent, token_hash, expires, False))
        values = latest.confirmed if ready else latest.answers
        rows[Answer].extend(self._answers(aid, contact, values, sent, not ready))


def _snapshots(today: date) -> None:
    """This quarter's roll-up rows by the app's capture, and the three before it from them."""
    history.capture(today)
    current = history.quarter_start(today)
    columns = [c.name for c in RollupSnapshot.__table__.columns if c.name != "id"]
    source = RollupSnapshot.__table__
    period = current
    for back in range(1, 4):
        period = history.previous_quarter(period)
        shifted = [
            sa.literal(period, sa.Date).label("period")
            if c == "period"
            else (source.c.score - 2 * back).label("score")
            if c == "score"
            else source.c[c]
            for c in columns
        ]
        db.session.execute(
            sa.insert(RollupSnapshot).from_select(
                columns, sa.select(*shifted).where(source.c.period == current)
            )
        )


def chunks(n: int, size: int = CHUNK) -> Iterable[tuple[int, int]]:
    for first in range(1, n + 1, size):
        yield first, min(first + size - 1, n)


def populate(n: int, seed: int = 2026) -> int:
    """Fill the (empty) schema of the app context with N suppliers and all that goes with them;
    commits; the number of rows written."""
    now, today = clock.now(), clock.today()
    register = Register(n, seed, today, now)
    conn = db.session.connection()
    _bulk_mode(conn, True)
    writer = Writer(conn)
    writer.write(User, users(now))
    order = (Supplier, Contact, Assessment, Invitation, Answer, AreaScore, Attestation, Contract,
             Finding)  # fmt: skip
    for first, last in chunks(n):
        rows = register.chunk(first, last)
        for model in order:
            writer.write(model, rows[model], ANSWER_COLUMNS if model is Answer else None)
    _snapshots(today)
    advance_sequences(db.session.connection())
    db.session.commit()
    _bulk_mode(db.session.connection(), False)
    db.session.commit()
    return writer.rows


def _bulk_mode(conn: sa.Connection, on: bool) -> None:
    """Foreign keys unchecked row by row while loading rows generated consistent, as pg_restore
    --disable-triggers does (PostgreSQL: for this transaction, and only for a superuser; SQLite:
    this connection, set back after). The smoke test checks the relations afterwards."""
    if conn.dialect.name == "postgresql":
        superuser = conn.scalar(
            sa.text("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        )
        if on and superuser:
            conn.execute(sa.text("SET LOCAL session_replication_role = replica"))
        return
    conn.exec_driver_sql(f"PRAGMA foreign_keys={'OFF' if on else 'ON'}")
    conn.exec_driver_sql(f"PRAGMA cache_size={-262144 if on else -2000}")


def analyze(engine: sa.Engine) -> None:
    """Planner statistics (and on PostgreSQL the visibility map), as a database in use has."""
    statement = "VACUUM ANALYZE" if engine.dialect.name == "postgresql" else "ANALYZE"
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(sa.text(statement))


def make_app(url: str, **settings: Any):
    """The app on `url` for building and for the in-process measurements (no CSRF needed)."""
    from vendorrisk import create_app
    from vendorrisk.config import DevelopmentConfig

    config = DevelopmentConfig()
    config.SQLALCHEMY_DATABASE_URI = url
    for key, value in settings.items():
        setattr(config, key, value)
    return create_app(config)


def build(
    url: str, n: int, seed: int = 2026, upload_dir: str | None = None, schema: str = "migrations"
) -> dict[str, Any]:
    """A fresh schema on `url` (the migrations from empty, as `vendorrisk db upgrade` makes it;
    or with schema="models" the models' create_all, while a model is ahead of its migration),
    filled with N suppliers. Returns the seconds taken (schema, rows, statistics), row counts.
    """
    from flask_migrate import upgrade

    settings = {"UPLOAD_DIR": upload_dir} if upload_dir else {}
    app = make_app(url, **settings)
    with app.app_context():
        started = time.perf_counter()
        _drop_everything(db.engine)
        if schema == "models":
            db.create_all()
        else:
            logging.disable(logging.INFO)  # each migration's docstring, as Alembic logs it
            try:
                upgrade()
            finally:
                logging.disable(logging.NOTSET)
        made = time.perf_counter() - started
        rows = populate(n, seed)
        filled = time.perf_counter() - started - made
        analyze(db.engine)
        total = time.perf_counter() - started
        counts = {
            model.__tablename__: db.session.scalar(sa.select(sa.func.count()).select_from(model))
            for model in (Supplier, Assessment, Answer, Attestation, Contract, Finding,
                          RollupSnapshot)
        }  # fmt: skip
        db.session.remove()
        db.engine.dispose()
    return {
        "seconds": round(total, 2),
        "schema": schema,
        "schema_seconds": round(made, 2),
        "rows_seconds": round(filled, 2),
        "rows": rows,
        "counts": counts,
    }


def _drop_everything(engine: sa.Engine) -> None:
    """An empty database: every table (the app's and Alembic's) dropped."""
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(sa.text("DROP SCHEMA public CASCADE"))
            conn.execute(sa.text("CREATE SCHEMA public"))
            return
        conn.execute(sa.text("PRAGMA foreign_keys=OFF"))
        names = conn.scalars(
            sa.text(
                "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'"
            )
        ).all()
        for name in names:
            conn.execute(sa.text(f'DROP TABLE "{name}"'))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url")
    parser.add_argument("n", type=int)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--schema", choices=("migrations", "models"), default="migrations")
    args = parser.parse_args()
    result = build(args.url, args.n, args.seed, schema=args.schema)
    print(
        f"{args.n} suppliers built in {result['seconds']:.1f} s "
        f"(schema {result['schema_seconds']:.1f} s, rows {result['rows_seconds']:.1f} s, "
        f"{result['rows']:,} rows): " + ", ".join(f"{v:,} {k}" for k, v in result["counts"].items())
    )


if __name__ == "__main__":
    main()

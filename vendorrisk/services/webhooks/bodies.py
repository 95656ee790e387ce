"""The body of a message in its subscription's format: the JSON envelope itself (standard), or
the incoming-webhook JSON of Slack ({"text": ...}) or Microsoft Teams (a MessageCard), with one
sentence in the subscription's language and a link to the object."""

from __future__ import annotations

import json
from typing import Any

from flask_babel import force_locale
from flask_babel import gettext as _

from vendorrisk.i18n.labels import LABELS, tier_name
from vendorrisk.models import AttestationKind, Decision, Severity, WebhookFormat
from vendorrisk.models.supplier import localized_name
from vendorrisk.models.webhook import TEST_EVENT


def body(fmt: str, payload: dict[str, Any], locale: str) -> bytes:
    """The bytes POSTed for this payload (the signature covers exactly these)."""
    if fmt == WebhookFormat.standard:
        return _json(payload)
    with force_locale(locale):
        text = sentence(payload, locale)
        opens = _("Open in vendorrisk")
    url = _url(payload)
    if fmt == WebhookFormat.slack:
        shown = f"{_slack_escape(text)}\n<{url}|{_slack_escape(opens)}>" if url else text
        return _json({"text": shown})
    card: dict[str, Any] = {
        "@type": "MessageCard",
        "@context": "https://schema.org/extensions",
        "summary": text[:150],
        "text": text,
    }
    if url:
        card["potentialAction"] = [
            {"@type": "OpenUri", "name": opens, "targets": [{"os": "default", "uri": url}]}
        ]
    return _json(card)


def _json(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


def _slack_escape(text: str) -> str:
    """Slack's three control characters, escaped as its message format asks."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _url(payload: dict[str, Any]) -> str:
    data = payload.get("data") or {}
    for part in ("assessment", "finding", "attestation", "supplier"):
        if isinstance(data.get(part), dict) and data[part].get("url"):
            return data[part]["url"]
    return data.get("url", "")


def _label(enum_cls: type, value: Any) -> str:
    try:
        return str(LABELS[enum_cls][enum_cls(value)])
    except (KeyError, ValueError):
        return str(value or "—")


def sentence(payload: dict[str, Any], locale: str) -> str:
    """What happened, in one sentence of the current language."""
    event, data = payload["type"], payload.get("data") or {}
    supplier = data.get("supplier") or {}
    name = localized_name(supplier.get("name_ja", ""), supplier.get("name_en", ""), locale)
    name = name or _("our company")
    if event == "assessment.submitted":
        return _(
            "%(supplier)s submitted the questionnaire (assessment #%(id)s).",
            supplier=name,
            id=data["assessment"]["id"],
        )
    if event == "assessment.completed":
        a = data["assessment"]
        score = "—" if a.get("score") is None else format(a["score"], ".0f")
        return _(
            "The review of assessment #%(id)s of %(supplier)s is complete: %(decision)s, "
            "score %(score)s.",
            id=a["id"],
            supplier=name,
            decision=_label(Decision, a.get("decision")),
            score=score,
        )
    if event == "supplier.tier_changed":
        return _(
            "The risk tier of %(supplier)s changed from %(previous)s to %(tier)s.",
            supplier=name,
            previous=tier_name(data.get("previous_tier")) if data.get("previous_tier") else "—",
            tier=tier_name(data.get("tier")),
        )
    if event in ("finding.raised", "finding.overdue"):
        return _finding_sentence(event, data["finding"], name)
    if event == "attestation.expiring":
        a = data["attestation"]
        return _(
            "%(kind)s of %(supplier)s expires on %(date)s (%(days)s days left).",
            kind=_label(AttestationKind, a.get("kind")),
            supplier=name,
            date=a.get("expires_on"),
            days=a.get("days_left"),
        )
    if event == TEST_EVENT:
        return _("A test message from vendorrisk: this webhook works.")
    return event


def _finding_sentence(event: str, finding: dict[str, Any], name: str) -> str:
    if event == "finding.raised":
        return _(
            "A finding (severity: %(severity)s) was raised for %(supplier)s: %(title)s "
            "(remediation due %(due)s).",
            severity=_label(Severity, finding.get("severity")),
            supplier=name,
            title=finding.get("title", ""),
            due=finding.get("due_on") or "—",
        )
    return _(
        'The finding "%(title)s" of %(supplier)s is past its remediation due date (%(due)s).',
        title=finding.get("title", ""),
        supplier=name,
        due=finding.get("due_on") or "—",
    )

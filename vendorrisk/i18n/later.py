"""Texts translated later, in a language chosen then: a mail's, not the request's."""

from __future__ import annotations

from flask_babel import force_locale, gettext

from vendorrisk.i18n.labels import label
from vendorrisk.models import Attestation, AttestationKind


def N_(message: str) -> str:  # noqa: N802 - the gettext convention for "translated later"
    """Mark a message for extraction; `translated` turns it into a language later."""
    return message


def translated(locale: str, message: str, **values: object) -> str:
    """The message in this language, whatever the request's language is."""
    with force_locale(locale):
        return gettext(message, **values)


def company_name(locale: str) -> str:
    """Our company's name as mails and the portal give it, in this language (the sender profile)."""
    from vendorrisk.mail.sender import sender  # here: the sender profile reads a setting

    return sender(locale).company


def attestation_name(attestation: Attestation, locale: str) -> str:
    """The scheme's name in a language, or the attestation's own name for kind "other"."""
    if attestation.kind == AttestationKind.other and attestation.name:
        return attestation.name
    with force_locale(locale):
        return label(attestation.kind)

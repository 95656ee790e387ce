"""The letter at the end of business (取引終了に伴うご連絡): the request for the erasure certificate
(消去証明書) of the data we entrusted, by a link that only takes that.

As the questionnaire letters, it owns its subject and dedupe key and is written with
`letter.send` (templates ``mail/supplier/erasure_request.<locale>.txt``); the offboarding service
issues the link and decides whom it goes to.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from vendorrisk.i18n.later import N_, translated
from vendorrisk.mail import letter
from vendorrisk.mail.questionnaire import link_end, subject_date
from vendorrisk.models import OffboardingReason

if TYPE_CHECKING:
    from vendorrisk.models import Contact, ErasureRequest, OutboxMessage, Supplier

SUBJECT = N_("Request: certificate of erasure of the data we entrusted to you (by %(date)s)")


def erasure_request(
    request: ErasureRequest, supplier: Supplier, contact: Contact, link: str
) -> OutboxMessage | None:
    """Ask the supplier's contact to return and erase our data and send the certificate."""
    locale = request.locale
    end = link_end(request.expires_at)
    return letter.send(
        "erasure_request",
        to=contact,
        supplier=supplier,
        subject=translated(locale, SUBJECT, date=subject_date(end["link_until"], locale)),
        kind="erasure_request",
        dedupe_key=f"erasure-request:{request.id}",
        contract_ended=request.offboarding.reason == OffboardingReason.contract_ended,
        link=link,
        **end,
    )

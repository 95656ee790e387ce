"""Japanese and English throughout: every string translated, the language chosen as promised."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from vendorrisk.config import BASE_DIR
from vendorrisk.models import Assessment, AssessmentStatus, Finding, Role, Severity, Supplier

PO = BASE_DIR / "vendorrisk/translations/ja/LC_MESSAGES/messages.po"
MO = PO.with_suffix(".mo")
KEYWORDS = {
    "_": None,
    "gettext": None,
    "ngettext": (1, 2),
    "_l": None,
    "lazy_gettext": None,
    "lazy_pgettext": ((1, "c"), 2),
    "pgettext": ((1, "c"), 2),
    "translated": (2,),
    "N_": None,  # vendorrisk.services.assessments.lifecycle.translated(locale, message)
}
METHODS = [
    ("vendorrisk/**.py", "python"),
    ("vendorrisk/templates/**.html", "jinja2"),
    ("vendorrisk/templates/**.txt", "jinja2"),
]


def _source_messages() -> set[tuple[str, str | None]]:
    found = set()
    for _, _, message, _, context in extract_from_dir(str(BASE_DIR), METHODS, keywords=KEYWORDS):
        found.add((message if isinstance(message, str) else message[0], context))
    return found


@pytest.fixture(scope="module")
def catalog():
    with PO.open("rb") as f:
        return read_po(f, locale="ja")


def test_every_string_in_the_code_has_a_japanese_translation(catalog):
    missing = sorted(
        m for m in _source_messages() if not (catalog.get(m) and catalog.get(m).string)
    )
    assert missing == [], "run `make translations-extract` and translate: " + repr(missing)


def test_no_fuzzy_translations_and_placeholders_kept(catalog):
    for message in catalog:
        if not message.id:
            continue
        assert not message.fuzzy, message.id
        for form in _forms(message.string):  # a plural has one form in Japanese
            assert set(re.findall(r"%\(\w+\)\w", _forms(message.id)[0])) == set(
                re.findall(r"%\(\w+\)\w", form)
            ), message.id


def _forms(value: str | tuple | list) -> tuple[str, ...]:
    """A message's id or string as a tuple: one item, or the forms of a plural (ngettext)."""
    return (value,) if isinstance(value, str) else tuple(value)


def test_the_compiled_catalog_is_up_to_date(catalog):
    with MO.open("rb") as f:
        compiled = read_mo(f)
    for message in catalog:
        if message.id:
            entry = compiled.get(message.id, context=message.context)
            assert entry and _forms(entry.string) == _forms(message.string), (
                "run `make translations-compile`: " + _forms(message.id)[0]
            )


def test_browser_language_is_followed_when_the_user_chose_none(client):
    assert "パスワード" in client.get("/auth/login", headers={"Accept-Language": "ja"}).get_data(
        as_text=True
    )
    english = client.get("/auth/login", headers={"Accept-Language": "en-US,en;q=0.8"})
    assert "Password" in english.get_data(as_text=True)
    assert '<html lang="en">' in english.get_data(as_text=True)


def test_the_users_choice_wins_over_the_browser(auth):
    auth.login(Role.procurement, locale="en")
    page = auth.client.get("/suppliers/", headers={"Accept-Language": "ja"}).get_data(as_text=True)
    assert "Register a supplier" in page
    auth.client.post("/auth/language", data={"lang": "ja", "next": "/suppliers/"})
    page = auth.client.get("/suppliers/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "取引先を登録" in page
    assert "Register a supplier" not in page


def test_an_anonymous_visitor_can_switch_language(client):
    response = client.post(
        "/auth/language",
        data={"lang": "en", "next": "/auth/login"},
        headers={"Accept-Language": "ja"},
    )
    assert response.headers["Location"] == "/auth/login"
    page = client.get("/auth/login", headers={"Accept-Language": "ja"}).get_data(as_text=True)
    assert "Password" in page


def _visible_text(html: str) -> str:
    html = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", html, flags=re.S)
    html = re.sub(r'<[^>]+lang="en"[^>]*>.*?</[^>]+>', " ", html, flags=re.S)
    return re.sub(r"<[^>]+>", " ", html)


def test_japanese_pages_show_no_english_ui_text(auth, runner, ctx, catalog):
    runner.invoke(args=["seed-demo"])
    auth.login(Role.admin, locale="ja")
    english = [
        m.id
        for m in catalog
        if isinstance(m.id, str)
        and len(m.id.split()) >= 2
        and "%(" not in m.id
        and m.string != m.id
    ]
    pages = [
        "/",
        "/suppliers/",
        "/suppliers/1",
        "/suppliers/new",
        "/questionnaires/",
        "/questionnaires/csm-v2-supplier?lang=ja",
        "/admin/users",
        "/admin/audit",
        "/admin/outbox",
        "/admin/settings",
        "/auth/password",
        "/assessments/",
        "/assessments/campaign",
        "/findings/",
        "/rollup",
    ]
    with ctx() as session:
        first = session.scalar(sa.select(sa.func.min(Supplier.id)).where(Supplier.contacts.any()))
        contact = session.scalar(sa.select(Supplier).where(Supplier.id == first)).contacts[0]
    pages[2] = f"/suppliers/{first}"
    pages.append(f"/suppliers/{first}/send")
    # An assessment in review, with a finding, so the review page shows every part.
    sent = auth.client.post(
        f"/suppliers/{first}/send",
        data={
            "template_id": "csm-v2-supplier",
            "due_on": "2099-01-01",
            "contact_ids": [contact.id],
            f"locale-{contact.id}": "ja",
        },
    )
    assessment_url = sent.headers["Location"]
    with ctx() as session:
        assessment = session.scalar(sa.select(Assessment))
        assessment.status = AssessmentStatus.submitted
        session.add(
            Finding(
                supplier_id=first, assessment_id=assessment.id, title="指摘", severity=Severity.high
            )
        )
        session.commit()
        finding_id = session.scalar(sa.select(Finding.id))
    pages += [assessment_url, f"/findings/{finding_id}"]
    for url in pages:
        text = _visible_text(auth.client.get(url).get_data(as_text=True))
        leaked = [m for m in english if m in text]
        assert leaked == [], (url, leaked)


def test_every_vocabulary_word_has_a_label_and_options_carry_the_stored_values(app):
    from vendorrisk.i18n import choices
    from vendorrisk.i18n.labels import LABELS, level_name, tier_name
    from vendorrisk.vocab import Level, Locale, Outage, Replaceability, Tier

    for vocabulary in (Tier, Level, Outage, Replaceability, Locale):
        assert set(LABELS[vocabulary]) == set(vocabulary), vocabulary
    with app.test_request_context(headers={"Accept-Language": "ja"}):
        assert [c.value for c in choices(Outage)] == ["hours", "days", "weeks", "months"]
        assert [c.value for c in choices(Locale)] == ["ja", "en"]
        assert tier_name("critical") == str(LABELS[Tier][Tier.critical]) != "critical"
        assert (tier_name(None), level_name(None), level_name("star3")) == ("—", "なし", "SCS ★3")

"""The product end to end as deployed: over HTTPS in Chromium, one browser per person.

The admin starts from the one-time password `create-user` printed and creates procurement, a
reviewer and the CISO; procurement registers a supplier and sends it the Direction 9
questionnaire; the supplier's contact answers from the mailed link in two sittings, attaches
its ISMS certificate and submits; the reviewer asks one question, the supplier replies, the
review completes; the CISO finds the new score and tier on the roll-up and in the management
report, in English and in Japanese. Then a page on another origin tries to post as a
logged-in user and is refused.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import pytest

from tests.e2e.conftest import COMPANY_JA
from tests.e2e.harness import Journey, Person
from vendorrisk.validation import corporate_number_check_digit

pytestmark = pytest.mark.e2e

NEW_PASSWORD = "みなと精機-supply-chain-2026"
TITLE_JA = "取引先セキュリティ質問票"
SUPPLIER_JA = "株式会社東都クラウドサービス"
SUPPLIER_EN = "Toto Cloud Services K.K."
CONTACT_NAME = "田中 太郎"
CONTACT_EMAIL = "tanaka@toto-cloud.example.jp"
TIERS = {
    "en": {"low": "Low", "medium": "Medium", "high": "High", "critical": "Critical"},
    "ja": {"low": "低", "medium": "中", "high": "高", "critical": "最重要"},
}
PASSWORD_CHANGED = {
    "ja-JP": "パスワードを変更しました。",
    "en-US": "Your password has been changed.",
}
STAFF = [  # (role, email, name, browser locale)
    ("procurement", "kobayashi@example.co.jp", "小林 美咲", "ja-JP"),
    ("reviewer", "sato@example.co.jp", "佐藤 大輔", "ja-JP"),
    ("ciso", "suzuki@example.co.jp", "鈴木 一郎", "en-US"),
]

#: The first sitting: who the supplier is, and Direction 1.
FIRST_SITTING = {
    "profile": {
        "sup-prof-01": "情報システム部 セキュリティ推進課 田中 太郎（tanaka@toto-cloud.example.jp、"
        "03-1234-5678）",
        "sup-prof-02": "120",
        "sup-prof-03": "クラウド型生産管理システムの提供と保守。"
        "御社の図面データと取引先情報を取り扱います。",
    },
    "d1": {"sup-d1-01": "yes", "sup-d1-02": "yes", "sup-d1-03": "partial"},
}
#: The second sitting: everything else (yes unless said otherwise).
PARTLY = {"sup-d3-05", "sup-d5-02", "sup-d7-06"}
NOT_YET = {"sup-d6-02"}
COMMENTS = {"sup-d6-02": "来年度に外部監査（情報セキュリティ監査）を受ける予定です。"}
SECOND_SITTING = {
    section: {q: "partial" if q in PARTLY else "no" if q in NOT_YET else "yes" for q in questions}
    for section, questions in {
        "d2": ["sup-d2-01", "sup-d2-02"],
        "d3": ["sup-d3-01", "sup-d3-02", "sup-d3-05"],
        "d4": ["sup-d4-01", "sup-d4-02", "sup-d4-04"],
        "d5": [f"sup-d5-0{n}" for n in range(1, 7)],
        "d6": ["sup-d6-01", "sup-d6-02", "sup-d6-03"],
        "d7": ["sup-d7-01", "sup-d7-02", "sup-d7-03", "sup-d7-04", "sup-d7-06"],
        "d8": ["sup-d8-01", "sup-d8-04"],
        "d9": ["sup-d9-01", "sup-d9-02", "sup-d9-03"],
        "d10": ["sup-d10-01", "sup-d10-02"],
    }.items()
}
#: The full pack's explicit controls (csm-v2-supplier version 2), answered with the rest.
SECOND_SITTING["d4"] |= {"sup-x-01": "domestic_only"}
SECOND_SITTING["d5"] |= {
    "sup-x-03": ["remote_access", "admin_accounts"],
    **dict.fromkeys(["sup-x-04", "sup-x-05", "sup-x-06", "sup-x-07", "sup-x-08"], "yes"),
    "sup-x-09": "14",
    "sup-x-10": "13",
    "sup-x-11": "yes",
}
SECOND_SITTING["d7"] |= {"sup-x-12": "no"}
SECOND_SITTING["d8"] |= {"sup-x-14": "yes"}
ISMS_EXPIRY = date.today() + timedelta(days=400)
D9_SPECIFICS = {
    "sup-d9s-01": "star2",
    "sup-d9s-02": "51234567890",
    "sup-d9s-03": "2024-04-01",
    "sup-d9s-04": "yes",
    "sup-d9s-05": "IS 654321",
    "sup-d9s-06": "一般財団法人日本品質保証機構",
    "sup-d9s-07": "クラウド型生産管理システムの開発、運用及び保守",
    "sup-d9s-08": ISMS_EXPIRY.isoformat(),
    "sup-d9s-09": ["pmark"],
    "sup-d9s-10": "no",
    "sup-d9s-14": "none",
    "sup-d9s-16": "yes",
    "sup-d9s-16b": "yes",
    "sup-x-15": [  # the subcontractors, a row each
        {
            "name": "株式会社ミナト保守",
            "country": "JP",
            "work": "データセンターでの運用監視",
            "our_data": "none",
            "approved_on": "2025-04-01",
        },
        {
            "name": "Harbor Cloud Pte. Ltd.",
            "country": "SG",
            "work": "バックアップの保管",
            "our_data": "confidential",
        },
    ],
    "sup-d9s-17": "yes",
    "sup-d9s-18": "24",
    "sup-d9s-19": "yes",
    "sup-d9s-20": "partial",
    "sup-d9s-21": "yes",
}
CLARIFY = "sup-d9s-17"
QUESTION = (
    "第一報を24時間以内とされていますが、夜間・休日に認知した場合の連絡体制を教えてください。"
)
REPLY = (
    "夜間・休日も当番者が携帯電話で受け付け、24時間以内に御社の窓口へメールと電話で第一報します。"
)


# -- what a person does ------------------------------------------------------------------------


def log_in(page, email: str, password: str) -> None:
    page.goto("/")
    assert "/auth/login" in page.url
    page.fill("#email", email)
    page.fill("#password", password)
    page.click("#submit")


def change_password(page, current: str, flash: str) -> None:
    page.wait_for_url("**/auth/password**")
    page.fill("#current", current)
    page.fill("#new", NEW_PASSWORD)
    page.fill("#confirm", NEW_PASSWORD)
    page.click("#submit")
    page.locator(".flash-success", has_text=flash).wait_for()
    assert "/auth/password" not in page.url


def assert_host_cookies(person: Person) -> None:
    """Production cookies are __Host- (this host only, whole path) and Secure."""
    cookies = person.cookies()
    assert cookies, f"{person.label} holds no cookie"
    for cookie in cookies:
        assert cookie["name"].startswith("__Host-"), (person.label, cookie["name"])
        assert cookie["secure"] and cookie["path"] == "/", (person.label, cookie)


class Autosaves:
    """The portal saves each answer as it is typed (after 0.8 s); this counts those in flight."""

    def __init__(self, page) -> None:
        self.page = page
        self.in_flight = 0
        page.on("request", lambda r: self._count(r, 1))
        page.on("requestfinished", lambda r: self._count(r, -1))
        page.on("requestfailed", lambda r: self._count(r, -1))

    def _count(self, request, step: int) -> None:
        if request.method == "POST" and request.url.endswith("/portal/q/autosave"):
            self.in_flight += step

    def settle(self) -> None:
        """Every answer typed has been saved: no form post then races an autosave."""
        self.page.wait_for_timeout(1200)
        for _ in range(300):
            if self.in_flight == 0:
                return
            self.page.wait_for_timeout(50)
        raise AssertionError(f"{self.in_flight} autosaves still running")


def answer(page, question: str, value, comment: str | None = None) -> None:
    block = page.locator(f"#q-{question}")
    if isinstance(value, list) and value and isinstance(value[0], dict):  # a table, row by row
        for i, row in enumerate(value):
            for column, cell in row.items():
                field = block.locator(f"[name='a-{question}-{i}-{column}']")
                if field.evaluate("e => e.tagName") == "SELECT":
                    field.select_option(cell)
                else:
                    field.fill(cell)
    elif isinstance(value, list):
        for choice in value:
            block.locator(f"input[type=checkbox][value='{choice}']").check()
    elif block.locator("input[type=radio]").count():
        block.locator(f"input[type=radio][value='{value}']").check()
    else:
        block.locator(f"[name='a-{question}']").fill(value)
    if comment:
        block.locator("details.comment summary").click()
        block.locator(f"[name='c-{question}']").fill(comment)


def answer_section(page, autosaves: Autosaves, answers: dict) -> None:
    for question, value in answers.items():
        answer(page, question, value, COMMENTS.get(question))
    autosaves.settle()
    for question in answers:  # each saved itself, without a button
        state = page.locator(f"#q-{question} .save-state")
        assert state.inner_text() == "保存しました", (question, state.inner_text())


def save_and(page, action: str, then: str) -> None:
    page.click(f"button[name=action][value={action}]")
    page.wait_for_url(f"**{then}")
    page.locator(".flash-success", has_text="回答を保存しました。").wait_for()


def open_portal(person: Person, link: str) -> Autosaves:
    """The mailed link's landing page changes nothing; its button opens a sitting."""
    page = person.page
    page.goto(link)
    page.locator("h1", has_text=TITLE_JA).wait_for()
    assert COMPANY_JA in page.locator("aside.requester").inner_text()  # 依頼元, before opening
    page.click("button.big-button")
    page.wait_for_url("**/portal/q/")
    assert COMPANY_JA in page.locator(".requester-line").inner_text()  # named on every page
    token = urlsplit(link).path.rsplit("/", 1)[1]
    assert token not in page.url
    return Autosaves(page)


def certificate_pdf(text: str) -> bytes:
    """A small valid PDF of one page (objects, cross-reference table and trailer)."""
    content = f"BT /F1 18 Tf 72 770 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R"
        b" /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(content), content),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    pdf, offsets = bytearray(b"%PDF-1.4\n"), []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(pdf))
        pdf += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(pdf)
    pdf += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    pdf += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    pdf += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(pdf)


def corporate_number(base12: str) -> str:
    return f"{corporate_number_check_digit(base12)}{base12}"


def score_on(page) -> float:
    return float(page.locator("#scores .big").inner_text().split("/")[0])


# -- the journey -------------------------------------------------------------------------------


def test_a_questionnaire_from_invitation_to_the_management_report(
    stack, open_person, journey: Journey, tmp_path
):
    mailbox, db = stack.mailbox, stack.database

    # 1. The admin's first login, then procurement, a reviewer and the CISO.
    admin = open_person("admin", "ja-JP")
    with journey.step("admin-login", admin) as page:
        log_in(page, stack.admin_email, stack.admin_password)
        page.wait_for_url("**/auth/password**")
        assert_host_cookies(admin)
    with journey.step("admin-changes-password", admin) as page:
        change_password(page, stack.admin_password, PASSWORD_CHANGED["ja-JP"])
    staff: dict[str, Person] = {}
    for role, email, name, locale in STAFF:
        with journey.step(f"admin-creates-{role}", admin) as page:
            page.goto("/admin/users")
            page.click("a[href$='/admin/users/new']")
            page.fill("#email", email)
            page.fill("#name", name)
            page.select_option("#role", role)
            page.select_option("#locale", "")  # follow the browser
            page.click("#submit")
            page.locator("h1", has_text="ワンタイムパスワード").wait_for()
            password = page.locator(".secret code").inner_text().strip()
            assert len(password) >= 12
        person = staff[role] = open_person(role, locale)
        with journey.step(f"{role}-first-login", person) as page:
            log_in(page, email, password)
            page.wait_for_url("**/auth/password**")
        with journey.step(f"{role}-changes-password", person) as page:
            change_password(page, password, PASSWORD_CHANGED[locale])
            assert_host_cookies(person)
    procurement, reviewer, ciso = staff["procurement"], staff["reviewer"], staff["ciso"]

    # 2. Procurement registers the supplier and its contact, and sends the questionnaire.
    with journey.step("procurement-registers-supplier", procurement) as page:
        page.goto("/suppliers/")
        page.click("a[href$='/suppliers/new']")
        page.fill("#name_ja", SUPPLIER_JA)
        page.fill("#name_en", SUPPLIER_EN)
        page.fill("#corporate_number", corporate_number("010401098765"))
        page.select_option("#category", "cloud_service")
        page.select_option("#criticality", "high")
        page.fill("#services", "クラウド型生産管理システム（SaaS）の提供と保守")
        for flag in ("shares_personal_info", "shares_confidential_info", "has_network_access"):
            page.check(f"#{flag}")
        page.select_option("#max_outage", "days")
        page.select_option("#replaceability", "hard")
        page.click("#submit")
        page.locator(".flash-success", has_text="取引先を登録しました。").wait_for()
        supplier_id = int(re.search(r"/suppliers/(\d+)", page.url).group(1))
    with journey.step("procurement-adds-contact", procurement) as page:
        page.click(f"a[href$='/suppliers/{supplier_id}/contacts/new']")
        page.fill("#name", CONTACT_NAME)
        page.fill("#email", CONTACT_EMAIL)
        page.fill("#department", "情報システム部")
        page.fill("#job_title", "部長")
        page.select_option("#locale", "ja")
        page.check("#is_primary")
        page.click("#submit")
        page.locator(".flash-success", has_text="取引先担当者を保存しました。").wait_for()
        assert CONTACT_EMAIL in page.content()
    with journey.step("procurement-sends-questionnaire", procurement) as page:
        page.click(f"a[href$='/suppliers/{supplier_id}/send']")
        page.select_option("#template_id", "csm-v2-supplier")
        contact = page.locator("input[name=contact_ids]")
        assert contact.count() == 1 and contact.is_checked()  # the primary contact
        page.select_option(f"select[name=locale-{contact.get_attribute('value')}]", "ja")
        page.fill(
            "#message",
            "年次の取引先セキュリティ確認です。ご不明な点は調達部 小林までご連絡ください。",
        )
        page.click("#submit")
        page.locator(
            ".flash-success", has_text="質問票を1名の取引先担当者に送付しました。"
        ).wait_for()
        assessment_id = int(re.search(r"/assessments/(\d+)", page.url).group(1))

    # 3. The supplier: the mail, two sittings, the certificate, submission.
    invitation = mailbox.wait_for(
        CONTACT_EMAIL, subject="情報セキュリティに関する質問票ご回答のお願い"
    )
    assert COMPANY_JA in invitation.subject
    assert CONTACT_NAME in invitation.text and SUPPLIER_JA in invitation.text
    link = invitation.portal_link()
    assert link.startswith(f"{stack.base_url}/portal/")
    first = open_person("supplier (first sitting)", "ja-JP")
    with journey.step("supplier-opens-invitation-link", first) as page:
        page.goto(link)
        page.locator("h1", has_text=TITLE_JA).wait_for()
        assert SUPPLIER_JA in page.content()
    with journey.step("supplier-opens-questionnaire", first) as page:
        autosaves = open_portal(first, link)
        page.click("a.button.primary[href*='/portal/q/section/']")  # start answering
        page.wait_for_url("**/portal/q/section/profile")
    with journey.step("supplier-answers-profile", first) as page:
        answer_section(page, autosaves, FIRST_SITTING["profile"])
        save_and(page, "next", "/portal/q/section/d1")
    with journey.step("supplier-answers-directive-1-and-leaves", first) as page:
        answer_section(page, autosaves, FIRST_SITTING["d1"])
        save_and(page, "overview", "/portal/q/")
    first.context.close()

    second = open_person("supplier (second sitting)", "ja-JP")
    with journey.step("supplier-comes-back", second) as page:
        autosaves = open_portal(second, link)
        page.goto("/portal/q/section/profile")
        for question, value in FIRST_SITTING["profile"].items():
            assert page.input_value(f"[name='a-{question}']") == value, question
        page.goto("/portal/q/section/d1")
        for question, value in FIRST_SITTING["d1"].items():
            assert page.is_checked(f"[name='a-{question}'][value='{value}']"), question
    sections = list(SECOND_SITTING)
    for section, following in zip(sections, [*sections[1:], "d9-specifics"], strict=True):
        with journey.step(f"supplier-answers-{section}", second) as page:
            page.goto(f"/portal/q/section/{section}")
            answer_section(page, autosaves, SECOND_SITTING[section])
            save_and(page, "next", f"/portal/q/section/{following}")
    pdf = tmp_path / "ISMS認証登録証.pdf"
    pdf.write_bytes(certificate_pdf("ISMS certificate IS 654321 - Toto Cloud Services"))
    with journey.step("supplier-attaches-isms-certificate", second) as page:
        answer_section(page, autosaves, D9_SPECIFICS)
        page.set_input_files("#q-sup-d9s-04 input[type=file]", pdf)
        save_and(page, "save", "/portal/q/section/d9-specifics")
        assert page.locator("#q-sup-d9s-04 .files a", has_text=pdf.name).count() == 1
    with journey.step("supplier-checks-before-submitting", second) as page:
        page.click("button[name=action][value=submit]")
        page.wait_for_url("**/portal/q/submit")
        assert page.locator("ul.missing").count() == 0
    with journey.step("supplier-submits", second) as page:
        page.click("form[action$='/portal/q/submit'] button[type=submit]")
        page.wait_for_url("**/portal/q/done")
        page.locator("h1", has_text="ありがとうございました").wait_for()
    mailbox.wait_for(CONTACT_EMAIL, subject="ご回答受領のお知らせ")
    mailbox.wait_for(STAFF[0][1], subject=f"{SUPPLIER_JA}が質問票")  # the supplier's owner
    stored = db.row("SELECT original_name, content_type FROM stored_files")
    assert tuple(stored) == (pdf.name, "application/pdf")

    # 4. Review: one clarification request answered in the portal, then the decision.
    with journey.step("reviewer-opens-submitted-assessment", reviewer) as page:
        page.goto("/assessments/")
        page.click(f"a[href$='/assessments/{assessment_id}']")
        page.wait_for_url(f"**/assessments/{assessment_id}")
        assert page.locator("#answers a", has_text=pdf.name).count() == 1
    with journey.step("reviewer-asks-a-question", reviewer) as page:
        page.select_option("#ask-question_id", CLARIFY)
        page.fill("#ask-body", QUESTION)
        page.click("#ask-submit")
        page.locator(".flash-success", has_text="取引先に確認依頼を送付しました。").wait_for()
    clarification = mailbox.wait_for(CONTACT_EMAIL, subject="ご回答内容についてのご確認のお願い")
    new_link = clarification.portal_link()
    third = open_person("supplier (clarification)", "ja-JP")
    with journey.step("supplier-first-link-closed", third) as page:
        with third.watch.refusal(410, urlsplit(link).path):  # a fresh link replaced it
            assert page.goto(link).status == 410
        page.locator("h1", has_text="このリンクは無効になりました").wait_for()
    with journey.step("supplier-answers-the-question", third) as page:
        open_portal(third, new_link)
        thread = page.locator("#clarifications article", has_text=QUESTION)
        thread.locator("textarea[name=body]").fill(REPLY)
        thread.locator("button[type=submit]").click()
        page.wait_for_url("**/portal/q/done")  # that was the only question: the link closes
        page.locator(".flash-success", has_text="ご回答を送信しました。").wait_for()
    mailbox.wait_for(STAFF[1][1], subject="確認依頼への回答がありました")  # the reviewer
    with journey.step("reviewer-completes-the-review", reviewer) as page:
        page.reload()
        page.locator("#clarifications", has_text=REPLY).wait_for()
        page.select_option("#done-decision", "approved_with_conditions")
        page.fill("#done-note", "外部監査の受審（来年度）を条件に承認する。")
        page.click("#done-submit")
        page.locator(".flash-success", has_text="レビューを完了しました。").wait_for()
        score = score_on(page)
    tier, latest = db.row("SELECT tier, latest_score FROM suppliers WHERE id = :id", id=supplier_id)
    assert round(latest, 1) == score and tier in ("high", "critical"), (tier, latest, score)

    # 5. The CISO: roll-up and management report, in English (the browser's) then Japanese.
    for lang, name, rollup_title in (
        ("en", SUPPLIER_EN, "Supply-chain roll-up"),
        ("ja", SUPPLIER_JA, "サプライチェーン全体状況"),
    ):
        if lang == "ja":
            with journey.step("ciso-switches-to-japanese", ciso) as page:
                page.click("header button[name=lang][value=ja]")
                page.locator("html[lang=ja]").wait_for()
        with journey.step(f"ciso-rollup-{lang}", ciso) as page:
            page.goto("/rollup")
            page.locator("h1", has_text=rollup_title).wait_for()
            label = f"{name} ({TIERS[lang][tier]}, {score:.1f})"
            assert page.locator("#heat th[scope=row]", has_text=label).count() == 1, label
            assert page.locator("#scores strong").inner_text() == f"{score:.1f}"
        with journey.step(f"ciso-management-report-{lang}", ciso) as page:
            page.goto("/report")
            row = page.locator("tr", has=page.locator(f"a:text-is('{name}')"))
            cells = row.locator("td").all_inner_texts()
            assert cells[1:3] == [TIERS[lang][tier], f"{score:.1f}"], cells

    for person in (admin, procurement, reviewer, ciso, third):
        assert_host_cookies(person)
    stack.processes.check_alive()


# -- a forged request from another origin ----------------------------------------------------------


@contextmanager
def attacker_site(page_html: str, tls=None) -> Iterator[str]:
    """Another loopback origin serving one page (over HTTPS when given a certificate)."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            body = page_html.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    scheme, host = "http", "localhost"
    if tls is not None:
        import ssl

        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(tls.cert, tls.key)
        server.socket = context.wrap_socket(server.socket, server_side=True)
        scheme, host = "https", "127.0.0.1"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"{scheme}://{host}:{server.server_port}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


ATTACK = {
    "name_ja": "攻撃者が登録した取引先",
    "category": "other",
    "status": "active",
    "criticality": "low",
    "country": "JP",
    "max_outage": "weeks",
    "replaceability": "moderate",
}


def forged_form(action: str, fields: dict[str, str]) -> str:
    inputs = "".join(f'<input type="hidden" name="{k}" value="{v}">' for k, v in fields.items())
    return (
        '<!doctype html><meta charset="utf-8"><title>ご当選のお知らせ</title>'
        f'<form method="post" action="{action}">{inputs}</form>'
        "<script>document.forms[0].submit()</script>"
    )


def test_a_page_on_another_origin_cannot_post_as_the_logged_in_user(
    stack, open_person, journey: Journey
):
    """Two forged posts to create a supplier, while the victim is logged in.

    From a sibling origin of the same site (https://127.0.0.1 on another port) the browser
    does send the SameSite=Lax session cookie, and even with the victim's own CSRF token the
    app refuses (Sec-Fetch-Site: same-site) with 400. From another site (http://localhost)
    the browser withholds the cookie: the app refuses it with 400 before looking for a login,
    and sets no cookie in answer, so the victim stays logged in.
    """
    email = "watanabe@example.co.jp"
    password = stack.create_user(email, "procurement", "渡辺 由美")
    victim = open_person("procurement (victim)", "ja-JP")
    with journey.step("victim-logs-in", victim) as page:
        log_in(page, email, password)
        change_password(page, password, PASSWORD_CHANGED["ja-JP"])
        page.goto("/suppliers/new")
        token = page.locator("input[name=csrf_token]").first.get_attribute("value")
    target = f"{stack.base_url}/suppliers/new"
    forged = forged_form(target, {**ATTACK, "csrf_token": token})  # as if the token leaked
    db = stack.database
    # Nothing is written but the refusal itself, in the audit log (at most a row a minute per
    # kind, person or address, and route).
    unchanged = ("job_runs", "audit_events")
    before = db.counts(leave_out=unchanged)
    refusals = "SELECT count(*) FROM audit_events WHERE action = 'csrf_refused' AND summary = :line"
    line = "POST /suppliers/new"
    assert db.scalar(refusals, line=line) == 0

    with attacker_site(forged, stack.certificate) as attacker:
        assert urlsplit(attacker).hostname == "127.0.0.1"
        with (
            journey.step("forged-post-from-a-sibling-origin", victim) as page,
            victim.watch.refusal(400, "/suppliers/new") as refused,
            page.expect_response(lambda r: r.url == target and r.request.method == "POST") as post,
        ):
            page.goto(attacker)
            page.wait_for_load_state()
            assert post.value.request.header_value("sec-fetch-site") == "same-site"
            assert post.value.request.header_value("cookie")  # SameSite=Lax let it through
            assert post.value.status == 400 and len(refused) == 1, refused
    assert db.counts(leave_out=unchanged) == before
    assert db.scalar(refusals, line=line) == 1  # the victim's refused post, on record
    with journey.step("victim-still-logged-in", victim) as page:
        page.goto("/suppliers/")
        assert "/auth/login" not in page.url
        assert page.locator("text=攻撃者が登録した取引先").count() == 0

    with attacker_site(forged) as attacker:
        assert urlsplit(attacker).hostname == "localhost"
        with (
            journey.step("forged-post-from-another-site", victim) as page,
            victim.watch.refusal(400, "/suppliers/new") as refused,
            page.expect_response(lambda r: r.url == target and r.request.method == "POST") as post,
        ):
            page.goto(attacker)
            page.wait_for_load_state()
            assert post.value.request.header_value("sec-fetch-site") == "cross-site"
            assert post.value.request.header_value("cookie") is None  # withheld: SameSite=Lax
            assert post.value.status == 400 and len(refused) == 1, refused
            assert post.value.header_value("set-cookie") is None  # nothing to log the victim out
    assert db.counts(leave_out=unchanged) == before
    assert db.scalar(refusals, line=line) == 2  # the anonymous one too (no cookie came)
    with journey.step("victim-still-logged-in-after-the-cross-site-attempt", victim) as page:
        page.goto("/suppliers/")
        assert "/auth/login" not in page.url

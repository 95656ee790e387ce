"""The official Japanese text uploaded on the questionnaire page: admins only, as
`vendorrisk questionnaires import-text` does it (same file rules, same audit), refused whole with
every problem named, and seen at once by every process serving the questionnaire folder."""

from __future__ import annotations

import functools
import io
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import PASSWORD, build_app, csrf_token_from, empty_tables
from tests.services.test_official_text import OFFICIAL_D57
from vendorrisk import catalog as catalog_module
from vendorrisk.catalog import catalog, refresh
from vendorrisk.config import BASE_DIR
from vendorrisk.extensions import db
from vendorrisk.models import AuditEvent, Role, User
from vendorrisk.services.users import accounts

TEMPLATE = "csm-v3-internal"
PAGE = f"/questionnaires/{TEMPLATE}"
UPLOAD = f"/questionnaires/{TEMPLATE}/official-text"
BADGE = 'class="badge muted working-translation"'


def _app(tmp_path_factory, folder: Path) -> Flask:
    app = build_app(tmp_path_factory, QUESTIONNAIRE_DIR=str(folder))
    with app.app_context():
        db.create_all()
    return app


def _close(app: Flask) -> None:
    with app.app_context():  # the database may be shared (PostgreSQL): its rows go, not its tables
        db.session.remove()
        with db.engine.begin() as conn:
            empty_tables(conn)
        db.engine.dispose()


@pytest.fixture
def served(tmp_path_factory, folder) -> Iterator[Flask]:
    """An app serving the copy (not the session's app, which serves the shipped folder)."""
    app = _app(tmp_path_factory, folder)
    yield app
    _close(app)


@functools.cache
def _password_hash() -> str:
    return accounts.hash_password(PASSWORD)


def _login(app: Flask, role: Role, locale: str = "en") -> tuple[FlaskClient, User]:
    with app.app_context():
        user = User(
            email=f"{role.value}@example.com",
            role=role,
            locale=locale,
            password_hash=_password_hash(),
            must_change_password=False,
        )
        db.session.add(user)
        db.session.commit()
        db.session.refresh(user)
        db.session.expunge(user)
    client = app.test_client()
    response = client.post("/auth/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 302
    return client, user


def _csv(rows: list[tuple[str, str]]) -> bytes:
    lines = ["項目,日本語"] + [f'{ident},"{text}"' for ident, text in rows]
    return ("\n".join(lines) + "\n").encode("utf-8-sig")


def _upload(client, data: bytes, name: str = "official.csv", **extra):
    return client.post(
        UPLOAD,
        data={"file": (io.BytesIO(data), name), **extra},
        content_type="multipart/form-data",
    )


def _row(app: Flask, page: str, item: str) -> str:
    """The table row of the question mapped to `item`, as the page shows it."""
    with app.app_context():
        question = next(q for q in catalog().get(TEMPLATE, 1).questions if q.mapping.item == item)
    return re.search(rf'<tr id="q-{question.id}">.*?</tr>', page, flags=re.S).group(0)


def _audited(app: Flask) -> list[AuditEvent]:
    with app.app_context():
        events = db.session.scalars(
            sa.select(AuditEvent).where(AuditEvent.action == "template_text_imported")
        ).all()
        db.session.expunge_all()
        return events


def test_an_admin_replaces_a_working_translation_from_the_questionnaire_page(served, folder):
    client, admin = _login(served, Role.admin)
    page = client.get(PAGE).get_data(as_text=True)
    assert f'action="{UPLOAD}"' in page and 'enctype="multipart/form-data"' in page
    assert 'accept=".csv,.xlsx"' in page and "D1 … D10" in page
    served.config["WTF_CSRF_ENABLED"] = True  # the form carries its token
    try:
        assert _upload(client, _csv([("D5-7", OFFICIAL_D57)])).status_code == 400
        response = _upload(client, _csv([("D5-7", OFFICIAL_D57)]), csrf_token=csrf_token_from(page))
    finally:
        served.config["WTF_CSRF_ENABLED"] = False
    assert response.status_code == 302 and response.headers["Location"] == PAGE

    shown = client.get(PAGE).get_data(as_text=True)
    assert "<small>v2</small>" in shown
    assert "1 text is now the guideline&#39;s own wording." in shown  # flashed
    japanese = client.get(PAGE + "?lang=ja").get_data(as_text=True)
    row = _row(served, japanese, "D5-7")
    assert OFFICIAL_D57 in row and BADGE not in row
    assert BADGE in _row(served, japanese, "D5-8")  # the others are still working translations
    old = client.get(PAGE + "?version=1&lang=ja").get_data(as_text=True)
    assert BADGE in _row(served, old, "D5-7") and OFFICIAL_D57 not in old  # kept as it was
    assert f'action="{UPLOAD}"' not in old  # an old version is not the one replaced

    assert (folder / f"{TEMPLATE}@1.yaml").exists()
    [event] = _audited(served)
    assert event.actor_type == "user" and event.actor_user_id == admin.id
    assert event.actor_label == admin.email
    assert event.summary == f"{TEMPLATE}@2: 1 official text(s) from official.csv"


@pytest.mark.parametrize("role", [Role.procurement, Role.reviewer, Role.ciso, Role.auditor])
def test_only_admins_see_the_form_and_may_post_it(served, folder, role):
    client, _user = _login(served, role)
    page = client.get(PAGE).get_data(as_text=True)
    assert "official-text" not in page and 'type="file"' not in page
    before = sorted(p.name for p in folder.iterdir())
    assert _upload(client, _csv([("D5-7", OFFICIAL_D57)])).status_code == 403
    assert sorted(p.name for p in folder.iterdir()) == before
    assert _audited(served) == []


def test_no_form_where_nothing_is_a_working_translation(served):
    client, _admin = _login(served, Role.admin)
    page = client.get("/questionnaires/csm-v2-internal").get_data(as_text=True)
    assert 'type="file"' not in page  # the seed's own Japanese: nothing to replace


def test_a_bad_file_lists_every_problem_in_the_users_language_and_writes_nothing(served, folder):
    client, _admin = _login(served, Role.admin, locale="ja")
    before = sorted(p.name for p in folder.iterdir())
    response = _upload(client, _csv([("D5-11", "存在しない項目"), ("D1-1", "")]))
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert f"2行目: D5-11 は {TEMPLATE}@1 の項目ではありません。" in page
    assert "3行目: D1-1 の本文が空です。" in page
    refused = _upload(client, b"D5-7,x", name="official.txt").get_data(as_text=True)
    assert "CSV" in refused and "Only CSV" not in refused  # the file rule, in Japanese
    assert sorted(p.name for p in folder.iterdir()) == before
    assert client.get(PAGE).get_data(as_text=True).count("<small>v1</small>") == 1
    assert _audited(served) == []


def test_another_process_sees_the_new_version_without_a_restart(
    served, folder, tmp_path_factory, monkeypatch
):
    other = _app(tmp_path_factory, folder)  # a second gunicorn worker on the same folder
    try:
        with other.app_context():
            assert catalog().get(TEMPLATE).version == 1
        client, _admin = _login(served, Role.admin)
        assert _upload(client, _csv([("D5-7", OFFICIAL_D57)])).status_code == 302
        monkeypatch.setattr(catalog_module, "CHECK_SECONDS", 0.0)  # not a second's wait
        with other.app_context():
            new = catalog().get(TEMPLATE)
            assert new.version == 2 and catalog().get(TEMPLATE, 1).version == 1
            assert next(q for q in new.questions if q.mapping.item == "D5-7").text.ja == (
                OFFICIAL_D57
            )
    finally:
        _close(other)


def test_the_folder_is_looked_at_when_due_and_loaded_again_only_when_changed(
    served, folder, monkeypatch
):
    with served.app_context():
        first = catalog()
        monkeypatch.setattr(catalog_module, "CHECK_SECONDS", 0.0)  # every call looks
        assert catalog() is first  # nothing changed: the same catalog, not loaded again
        monkeypatch.setattr(catalog_module, "CHECK_SECONDS", 3600.0)  # looked at just now
        (folder / "csm-v2-internal.yaml").unlink()
        assert catalog() is first  # not due: the folder is not even looked at
        monkeypatch.setattr(catalog_module, "CHECK_SECONDS", 0.0)
        changed = catalog()
        # loaded again, but what was lost is kept: assessments and cycles made with it still open
        assert changed is not first
        assert changed.get("csm-v2-internal") is first.get("csm-v2-internal") is not None
        assert catalog() is changed
        broken = folder / "csm-v3-internal.yaml"
        good = broken.read_text(encoding="utf-8")
        broken.write_text(good.replace("audience: internal", "audience: [broken"), "utf-8")
        again = catalog()
        assert again is not changed and any("csm-v3-internal" in str(e) for e in again.errors)
        assert again.get(TEMPLATE) is changed.get(TEMPLATE)  # the good version kept serving
        broken.write_text(good, "utf-8")
        changed = catalog()
        assert changed is not again
        assert not any("csm-v3-internal.yaml" in str(e) for e in changed.errors)
        monkeypatch.setattr(catalog_module, "CHECK_SECONDS", 3600.0)
        shutil.copy(BASE_DIR / "questionnaires" / "csm-v2-internal.yaml", folder)
        assert catalog() is changed  # not due; refresh() looks at once (after a write)
        assert refresh().get("csm-v2-internal") is not None
        assert catalog().get("csm-v2-internal") is not None

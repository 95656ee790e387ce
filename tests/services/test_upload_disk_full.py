"""A full disk under the upload folder, for real (a 64 KB tmpfs): every form that takes a file
says so in the user's language, keeps what was saved before, and leaves no partial bytes."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.blueprints.portal.test_portal import PDF, TEMPLATE, _open, sent
from tests.services.register.test_evidence_requests import _upload, evidence
from vendorrisk.models import Answer, Attestation, Role, StoredFile

#: Fixtures borrowed by name: the portal's sent questionnaire, the renewed-evidence request.
BORROWED_FIXTURES = (sent, evidence)

JA_FULL = "サーバーの保存領域に空きがないため"
EN_FULL = "There is no room left on the server to store this file"
ISMS = {
    "kind": "isms",
    "identifier": "IS 654321",
    "issuer": "一般財団法人日本品質保証機構",
    "scope": "データセンター運用",
    "issued_on": "2024-04-01",
    "expires_on": "2027-03-31",
}


def _mount(args: list[str]) -> subprocess.CompletedProcess:
    tool = shutil.which(args[0]) or args[0]
    return subprocess.run([tool, *args[1:]], capture_output=True, text=True, check=False)  # noqa: S603


@pytest.fixture
def small_disk(app, tmp_path) -> Iterator[Path]:
    """The upload folder on a real 64 KB file system for the test's duration (root mounts a
    tmpfs; CI runs as root)."""
    folder = tmp_path / "small-disk"
    folder.mkdir()
    mounted = _mount(["mount", "-t", "tmpfs", "-o", "size=64k,mode=0755", "tmpfs", str(folder)])
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root): {mounted.stderr.strip()}")
    saved = app.config["UPLOAD_DIR"]
    app.config["UPLOAD_DIR"] = str(folder)
    try:
        yield folder
    finally:
        app.config["UPLOAD_DIR"] = saved
        assert _mount(["umount", str(folder)]).returncode == 0


def _fill(folder: Path) -> None:
    """Write until the file system says it is full (ENOSPC)."""
    fd = os.open(folder / "filler", os.O_WRONLY | os.O_CREAT)
    try:
        while True:
            os.write(fd, b"\0" * 4096)
    except OSError as exc:
        assert exc.errno == 28  # ENOSPC
    finally:
        os.close(fd)


def _count(ctx, model) -> int:
    with ctx() as session:
        return session.scalar(sa.select(sa.func.count()).select_from(model))


def _attest(client, supplier_id: int, data: bytes, name: str, **headers):
    return client.post(
        f"/suppliers/{supplier_id}/attestations/new",
        data=ISMS | {"evidence": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
        headers=headers,
    )


@pytest.mark.parametrize("lang,message", [("en", EN_FULL), ("ja", JA_FULL)])
def test_staff_evidence_on_a_full_disk_is_refused_on_its_form_and_nothing_is_lost(
    small_disk, auth, make_supplier, ctx, lang, message
):
    supplier = make_supplier()
    auth.login(Role.procurement)
    assert _attest(auth.client, supplier.id, PDF, "first.pdf").status_code == 302
    with ctx() as session:
        first = session.scalar(sa.select(StoredFile))
    _fill(small_disk)

    response = _attest(auth.client, supplier.id, PDF + b"0" * 8192, "second.pdf",
                       **{"Accept-Language": lang})  # fmt: skip
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and message in page
    assert 'value="IS 654321"' in page  # the form keeps what was typed
    assert _count(ctx, Attestation) == 1 and _count(ctx, StoredFile) == 1
    assert (small_disk / first.storage_key).read_bytes() == PDF  # the earlier file is intact
    assert sorted(p.name for p in small_disk.iterdir()) == sorted(["filler", first.storage_key])


def test_a_read_only_upload_folder_gets_the_general_message(small_disk, auth, make_supplier, ctx):
    """Any other error writing the bytes (here EROFS, a real read-only remount) is told too."""
    supplier = make_supplier()
    auth.login(Role.procurement)
    assert _mount(["mount", "-o", "remount,ro", str(small_disk)]).returncode == 0
    response = _attest(auth.client, supplier.id, PDF, "cert.pdf", **{"Accept-Language": "en"})
    assert response.status_code == 200
    assert "The server could not store this file" in response.get_data(as_text=True)
    assert _count(ctx, Attestation) == 0 and _count(ctx, StoredFile) == 0


@pytest.mark.parametrize("lang,message", [("ja", JA_FULL), ("en", EN_FULL)])
def test_a_supplier_on_a_full_disk_keeps_the_answers_and_is_told_in_their_language(
    app, small_disk, sent, ctx, lang, message
):
    file_q = next(q for q in TEMPLATE.questions if q.type == "file")
    section = next(s for s in TEMPLATE.sections if file_q in s.questions)
    other = next(q for q in section.questions if q.type == "yes_partial_no")
    client = _open(app, sent.link if lang == "ja" else sent.link_en, lang)
    _fill(small_disk)
    response = client.post(
        f"/portal/q/section/{section.id}",
        data={
            f"v-{other.id}": "0",
            f"a-{other.id}": "yes",
            f"f-{file_q.id}": (io.BytesIO(PDF), "policy.pdf"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 422 and message in response.get_data(as_text=True)
    with ctx() as session:
        saved = session.scalar(sa.select(Answer.value).where(Answer.question_id == other.id))
    assert saved == "yes"
    assert _count(ctx, StoredFile) == 0
    assert [p.name for p in small_disk.iterdir()] == ["filler"]  # no partial bytes


def test_renewed_evidence_on_a_full_disk_is_refused_in_the_contacts_language(
    app, small_disk, evidence, ctx
):
    _fill(small_disk)
    response = _upload(app.test_client(), evidence.path, PDF, "renewed.pdf", "2028-03-31")
    assert response.status_code == 422
    assert EN_FULL in response.get_data(as_text=True)  # the contact reads English
    assert _count(ctx, StoredFile) == 0
    assert [p.name for p in small_disk.iterdir()] == ["filler"]


def test_a_supplier_import_on_a_full_disk_is_refused_on_its_form(small_disk, auth, ctx):
    """The import's kept upload lives under the upload folder too."""
    auth.login(Role.procurement)
    _fill(small_disk)
    csv = "name_ja,category\n株式会社ディスク,outsourcing_contractor\n" + "#" * 9000 + "\n"
    response = auth.client.post(
        "/suppliers/import",
        data={"file": (io.BytesIO(csv.encode()), "suppliers.csv")},
        content_type="multipart/form-data",
        headers={"Accept-Language": "en"},
    )
    assert response.status_code == 200
    assert EN_FULL in response.get_data(as_text=True)
    kept = small_disk / "imports"
    assert not kept.exists() or list(kept.iterdir()) == []

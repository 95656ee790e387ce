"""Stored files: their bytes live exactly as long as the transaction that records them."""

from __future__ import annotations

import io
from pathlib import Path

from vendorrisk.extensions import db
from vendorrisk.services import files

PDF = b"%PDF-1.4 evidence"


def _store(app, name: str = "cert.pdf"):
    return files.store(
        io.BytesIO(PDF), name, app.config["UPLOAD_DIR"], app.config["MAX_UPLOAD_BYTES"]
    )


def _path(app, stored) -> Path:
    return files.path_of(stored, app.config["UPLOAD_DIR"])


def test_bytes_of_a_rolled_back_upload_are_deleted(app):
    with app.app_context():
        stored = _store(app)
        path = _path(app, stored)
        assert path.read_bytes() == PDF
        db.session.rollback()
        assert not path.exists()


def test_bytes_of_a_committed_upload_stay_after_a_later_rollback(app):
    with app.app_context():
        stored = _store(app)
        db.session.commit()
        path = _path(app, stored)
        db.session.rollback()  # a later, unrelated rollback
        assert path.read_bytes() == PDF


def test_a_savepoint_rollback_leaves_the_decision_to_the_outer_transaction(app):
    with app.app_context():
        outer = _store(app, "outer.pdf")
        savepoint = db.session.begin_nested()
        inner = _store(app, "inner.pdf")
        savepoint.rollback()
        assert _path(app, outer).exists() and _path(app, inner).exists()
        db.session.rollback()
        assert not _path(app, outer).exists() and not _path(app, inner).exists()


def test_a_discarded_file_keeps_its_bytes_if_the_discard_rolls_back(app):
    with app.app_context():
        stored = _store(app)
        db.session.commit()
        path = _path(app, stored)
        files.discard(stored)
        db.session.rollback()
        assert path.exists()
        files.discard(db.session.merge(stored))
        db.session.commit()
        assert not path.exists()

"""One unbound instance per extension; `create_app` binds them."""

import sqlite3
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import current_app, request
from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase

#: Stable constraint names, so Alembic can alter them on SQLite and PostgreSQL alike.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)


def release_session() -> None:
    """End the current session even when its connection died under it (a database restart,
    a cut): roll back if the server can hear it, else drop the connection."""
    try:
        db.session.remove()
    except sa.exc.SQLAlchemyError:
        db.session().invalidate()
        db.session.remove()


@event.listens_for(Engine, "connect")
def _sqlite_enforces_foreign_keys(dbapi_connection, connection_record) -> None:
    """SQLite ignores ON DELETE and foreign keys unless asked, per connection.

    The rollback journal is kept (not write-ahead logging): in WAL mode a request that read
    and then writes fails at once with SQLITE_BUSY_SNAPSHOT when another worker committed in
    between, where the journal makes it wait its turn (20 contacts autosaving one answer: 15 of
    600 refused with WAL, none with the journal).
    """
    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()


migrate = Migrate(compare_type=True, render_as_batch=True)
login_manager = LoginManager()


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    default = {"http": 80, "https": 443}.get(parts.scheme)
    try:
        port = parts.port or default
    except ValueError:  # a malformed port is no origin of ours
        return ("", "", None)
    return (parts.scheme, (parts.hostname or "").lower(), port)


def cross_origin_reason() -> str | None:
    """Why the current unsafe request comes from another site, or None when it does not.

    Browsers say where a request comes from in `Sec-Fetch-Site` (all current ones, over HTTPS
    and on loopback) or else in `Origin`; the app's `Referrer-Policy: no-referrer` makes the
    Referer useless for this and turns `Origin` into "null" on our own POSTs, so Sec-Fetch-Site
    decides first. A client that sends neither header is no browser: the token alone decides.
    Flask-WTF's own HTTPS check (WTF_CSRF_SSL_STRICT), which demands a Referer, is off.
    """
    site = request.headers.get("Sec-Fetch-Site")
    if site is not None:
        return None if site in ("same-origin", "none") else f"Sec-Fetch-Site is {site!r}"
    origin = request.headers.get("Origin")
    if origin is None:
        return None
    ours = {_origin(request.host_url), _origin(current_app.config["BASE_URL"])}
    return None if _origin(origin) in ours else f"Origin {origin!r} is not this site"


csrf = CSRFProtect()
babel = Babel()
limiter = Limiter(key_func=get_remote_address, default_limits=[])

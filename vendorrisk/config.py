"""Configuration: read from VENDORRISK_* environment variables with typed parsing."""

from __future__ import annotations

import os
from pathlib import Path

from vendorrisk.vocab import LOCALES, Locale

BASE_DIR = Path(__file__).resolve().parent.parent
INSTANCE_DIR = BASE_DIR / "instance"

#: Secret keys that must never reach production.
INSECURE_SECRET_KEYS = {"", "dev", "change-me", "dev-insecure-key-change-me"}


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(f"VENDORRISK_{name}", default)


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(f"VENDORRISK_{name}")
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise RuntimeError(f"VENDORRISK_{name} must be a whole number, not {raw!r}") from exc


def env_list(name: str) -> list[str]:
    """A comma-separated variable as a list, blanks dropped."""
    return [item.strip() for item in env_str(name).split(",") if item.strip()]


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(f"VENDORRISK_{name}")
    if raw is None or raw == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise RuntimeError(f"VENDORRISK_{name} must be true or false, not {raw!r}")


class Config:
    """Settings shared by every environment; each reads its environment variable when built."""

    def __init__(self) -> None:
        self.SECRET_KEY = env_str("SECRET_KEY", "dev-insecure-key-change-me")
        self.SQLALCHEMY_DATABASE_URI = env_str(
            "DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'vendorrisk.sqlite3'}"
        )
        #: Seconds to wait for the database to accept a connection, and for one statement to
        #: finish: both well under gunicorn's 30 s worker timeout, so a database that does not
        #: answer gives an error page, not a killed worker.
        self.DATABASE_CONNECT_TIMEOUT = env_int("DATABASE_CONNECT_TIMEOUT", 5)
        self.DATABASE_STATEMENT_TIMEOUT = env_int("DATABASE_STATEMENT_TIMEOUT", 20)
        self.BASE_URL = env_str("BASE_URL", "http://127.0.0.1:5000").rstrip("/")
        #: Host names the app answers to (Flask refuses any other Host header with 400);
        #: None answers to any, which only a development machine may do.
        self.TRUSTED_HOSTS = env_list("TRUSTED_HOSTS") or None
        self.MAIL_SERVER = env_str("MAIL_SERVER", "")
        self.MAIL_PORT = env_int("MAIL_PORT", 25)
        self.MAIL_USERNAME = env_str("MAIL_USERNAME", "")
        self.MAIL_PASSWORD = env_str("MAIL_PASSWORD", "")
        self.MAIL_USE_TLS = env_bool("MAIL_USE_TLS", False)
        self.MAIL_SENDER = env_str("MAIL_SENDER", "vendorrisk@localhost")
        #: Seconds any one wait for the relay may last (connect, each reply): well under
        #: gunicorn's 30 s worker timeout.
        self.MAIL_TIMEOUT = env_int("MAIL_TIMEOUT", 10)
        #: Seconds a webhook receiver has to answer (connect, send, first reply), well under
        #: gunicorn's 30 s worker timeout: slower answers count as failures, retried later.
        self.WEBHOOK_TIMEOUT = env_int("WEBHOOK_TIMEOUT", 5)
        #: Hosts a webhook may go to although they resolve to a private, loopback or link-local
        #: address, and over plain http (an internal chat server; 127.0.0.1 in the tests);
        #: every other webhook must be https to a public address.
        self.WEBHOOK_ALLOWED_HOSTS = [h.lower() for h in env_list("WEBHOOK_ALLOWED_HOSTS")]
        self.TIMEZONE = env_str("TIMEZONE", "Asia/Tokyo")
        self.UPLOAD_DIR = env_str("UPLOAD_DIR", str(INSTANCE_DIR / "uploads"))
        self.MAX_UPLOAD_MB = env_int("MAX_UPLOAD_MB", 20)
        self.MAX_UPLOAD_BYTES = self.MAX_UPLOAD_MB * 1024 * 1024
        self.MAX_CONTENT_LENGTH = self.MAX_UPLOAD_BYTES * 2 + 1024 * 1024  # a few files a post
        self.RATELIMIT_STORAGE_URI = env_str("RATELIMIT_STORAGE_URI", "memory://")
        #: Redis down or black-holed: each process counts in its own memory meanwhile (logged)
        #: instead of refusing every login and link; a second at most is spent finding out.
        self.RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
        self.RATELIMIT_STORAGE_OPTIONS = {"socket_timeout": 0.5, "socket_connect_timeout": 0.5}
        self.QUESTIONNAIRE_DIR = env_str("QUESTIONNAIRE_DIR", str(BASE_DIR / "questionnaires"))
        self.SESSION_LIFETIME_HOURS = env_int("SESSION_LIFETIME_HOURS", 12)
        #: A staff session unused this long ends (server-side), whatever its lifetime left.
        self.SESSION_IDLE_MINUTES = env_int("SESSION_IDLE_MINUTES", 30)
        #: A one-time password (create-user, an admin's reset) stops working after this.
        self.ONE_TIME_PASSWORD_HOURS = env_int("ONE_TIME_PASSWORD_HOURS", 72)
        #: A "forgot your password" link stops working after this.
        self.PASSWORD_RESET_MINUTES = env_int("PASSWORD_RESET_MINUTES", 30)
        self.COMPANY_NAME_JA = env_str("COMPANY_NAME_JA", "当社")
        self.COMPANY_NAME_EN = env_str("COMPANY_NAME_EN", "our company")
        self.PORTAL_GRACE_DAYS = env_int("PORTAL_GRACE_DAYS", 14)
        self.PORTAL_RATE_LIMIT = env_str("PORTAL_RATE_LIMIT", "30 per minute")
        #: Excel uploads one portal link's sittings may make (each file is unzipped and read).
        self.PORTAL_EXCEL_RATE_LIMIT = env_str("PORTAL_EXCEL_RATE_LIMIT", "5/minute;30/hour")
        #: A portal sitting ends after this many idle minutes, and this many hours after it opened.
        self.PORTAL_IDLE_MINUTES = env_int("PORTAL_IDLE_MINUTES", 60)
        self.PORTAL_SITTING_HOURS = env_int("PORTAL_SITTING_HOURS", 12)
        self.MAIL_DELIVER_IN_REQUEST = env_int("MAIL_DELIVER_IN_REQUEST", 10)
        self.PAGE_SIZE = env_int("PAGE_SIZE", 50)
        #: Requests one API token may make (flask-limiter's notation); 429 beyond.
        self.API_RATE_LIMIT = env_str("API_RATE_LIMIT", "120 per minute;3000 per hour")
        #: The longest life an API token may be given, in days (every token expires).
        self.API_TOKEN_MAX_DAYS = env_int("API_TOKEN_MAX_DAYS", 365)
        #: Items an API list answers per page unless `limit` asks fewer (or more, up to 200).
        self.API_PAGE_SIZE = env_int("API_PAGE_SIZE", 50)
        #: Reverse proxies in front of the app whose X-Forwarded-* headers are trusted.
        self.PROXY_HOPS = env_int("PROXY_HOPS", 0)
        self.SCHEDULER_ENABLED = env_bool("SCHEDULER_ENABLED", False)
        #: How often the scheduler makes sure it still holds its lock (and a standby retries).
        self.SCHEDULER_LOCK_CHECK_SECONDS = env_int("SCHEDULER_LOCK_CHECK_SECONDS", 5)
        #: Single sign-on for staff (vendorrisk/sso.py, README "Single sign-on"): the OpenID
        #: provider's issuer URL, exactly as its discovery document states it; empty: no SSO.
        self.OIDC_ISSUER = env_str("OIDC_ISSUER").strip()
        self.OIDC_CLIENT_ID = env_str("OIDC_CLIENT_ID").strip()
        self.OIDC_CLIENT_SECRET = env_str("OIDC_CLIENT_SECRET")
        #: The claim (of the ID token, else of userinfo) that lists the user's groups.
        self.OIDC_GROUPS_CLAIM = env_str("OIDC_GROUPS_CLAIM", "groups").strip() or "groups"
        #: group=role pairs, comma-separated ("vr-admins=admin,vr-audit=auditor"); a user in
        #: several mapped groups gets the most privileged of their roles (sso_roles.py).
        self.OIDC_ROLE_MAP = env_str("OIDC_ROLE_MAP")
        #: group=unit-code pairs ("grp-east=JP-EAST,grp-tw=SUB-TW"): the provider's groups then
        #: also set the user's business units (部門) at every sign-in; empty: admins set them.
        self.OIDC_UNIT_MAP = env_str("OIDC_UNIT_MAP")
        #: The provider's name on the login button ("Sign in with Microsoft Entra ID").
        self.OIDC_LABEL = env_str("OIDC_LABEL", "single sign-on").strip() or "single sign-on"
        #: Seconds any one request to the provider (discovery, keys, token, userinfo) may take.
        self.OIDC_TIMEOUT = env_int("OIDC_TIMEOUT", 10)
        #: Off: no password form, the password routes refuse, only single sign-on logs in.
        self.LOCAL_PASSWORDS = env_bool("LOCAL_PASSWORDS", True)
        self.SESSION_COOKIE_HTTPONLY = True
        self.SESSION_COOKIE_SAMESITE = "Lax"
        self.SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", False)
        self.BABEL_DEFAULT_LOCALE = Locale.ja.value
        self.BABEL_DEFAULT_TIMEZONE = "UTC"
        self.LANGUAGES = LOCALES
        self.WTF_CSRF_TIME_LIMIT = None  # tied to the session, which has its own lifetime
        #: Flask-WTF's HTTPS check wants a Referer, which `Referrer-Policy: no-referrer` never
        #: sends; extensions.OriginCheckedCSRF checks Sec-Fetch-Site / Origin instead.
        self.WTF_CSRF_SSL_STRICT = False

    @property
    def SQLALCHEMY_ENGINE_OPTIONS(self) -> dict:  # noqa: N802 - Flask reads upper-case names
        """Connection settings for the configured database (read when the app is built)."""
        options: dict = {"pool_pre_ping": True}
        if self.SQLALCHEMY_DATABASE_URI.startswith("postgresql"):
            # A partitioned network answers nothing: TCP gives up on unacknowledged data after
            # tcp_user_timeout and on a silent peer after the keepalives, in a few seconds.
            # No JIT: PostgreSQL compiles any plan costed above jit_above_cost, and for the
            # roll-up's aggregates over every supplier compiling took longer (80-170 ms each at
            # 10,000 suppliers) than running them; no statement of ours runs long enough to gain.
            timeout = self.DATABASE_STATEMENT_TIMEOUT * 1000
            options["connect_args"] = {
                "connect_timeout": self.DATABASE_CONNECT_TIMEOUT,
                "options": f"-c statement_timeout={timeout} -c jit=off",
                "tcp_user_timeout": self.DATABASE_CONNECT_TIMEOUT * 1000,
                "keepalives": 1,
                "keepalives_idle": 5,
                "keepalives_interval": 2,
                "keepalives_count": 2,
            }
            options["pool_timeout"] = self.DATABASE_CONNECT_TIMEOUT
        elif self.SQLALCHEMY_DATABASE_URI.startswith("sqlite"):
            # SQLite has one writer at a time; the others wait for the lock, by default only 5 s.
            # Under load (20 contacts autosaving one answer on a busy machine) a writer could
            # lose the race for the lock for that long and answer 503: wait as long as a
            # statement may run on PostgreSQL, still well under gunicorn's worker timeout.
            options["connect_args"] = {"timeout": self.DATABASE_STATEMENT_TIMEOUT}
        return options


class DevelopmentConfig(Config):
    """Local use: `make run`."""

    def __init__(self) -> None:
        super().__init__()
        self.DEBUG = False


class TestConfig(Config):
    """The test suite: its own database and upload folder, no scheduler."""

    def __init__(self) -> None:
        super().__init__()
        self.TESTING = True
        self.SECRET_KEY = "test-secret-key-not-for-production"  # noqa: S105 (the test configuration only)  # nosec B105
        self.SQLALCHEMY_DATABASE_URI = os.environ.get(
            "VENDORRISK_TEST_DATABASE_URL", "sqlite:///:memory:"
        )
        self.SCHEDULER_ENABLED = False
        self.RATELIMIT_ENABLED = False


class ProductionConfig(Config):
    """Production: refuses to start unless it is set up to be served safely by many workers."""

    def __init__(self) -> None:
        super().__init__()
        problems = production_problems(self)
        if problems:
            raise RuntimeError(
                "vendorrisk will not start in production:\n- " + "\n- ".join(problems)
            )
        self.SESSION_COOKIE_SECURE = True
        #: __Host-: only over HTTPS, for this host alone and the whole path (no Domain).
        self.SESSION_COOKIE_NAME = "__Host-session"
        self.SCHEDULER_ENABLED = env_bool("SCHEDULER_ENABLED", False)


def production_problems(config: Config) -> list[str]:
    """What stops a configuration from being served in production, each with its fix."""
    problems = []
    if config.SECRET_KEY in INSECURE_SECRET_KEYS or len(config.SECRET_KEY) < 32:
        problems.append(
            "VENDORRISK_SECRET_KEY must be set to a random value of at least 32 characters "
            "(for example: python -c 'import secrets; print(secrets.token_hex(32))')"
        )
    if not env_str("RATELIMIT_STORAGE_URI"):
        problems.append(
            "VENDORRISK_RATELIMIT_STORAGE_URI must name the rate-limit storage shared by every "
            "worker and host: redis://HOST:6379/0 (or memory:// for one single process)"
        )
    if not config.TRUSTED_HOSTS:
        problems.append(
            "VENDORRISK_TRUSTED_HOSTS must list the host names the app is reached by "
            "(for example: vendorrisk.example.co.jp); other Host headers are refused"
        )
    if not config.BASE_URL.startswith("https://"):
        problems.append(
            f"VENDORRISK_BASE_URL must be the public https:// address, not {config.BASE_URL!r}"
        )
    return problems + sso_problems(config)


def sso_problems(config: Config) -> list[str]:
    """What stops single sign-on from being served safely (nothing when it is not set up)."""
    from vendorrisk.services.users.sso_roles import parse_role_map  # pure, no app needed

    if not config.OIDC_ISSUER:
        if not config.LOCAL_PASSWORDS:
            return [
                "VENDORRISK_LOCAL_PASSWORDS=off needs single sign-on (VENDORRISK_OIDC_ISSUER): "
                "otherwise nobody can log in"
            ]
        return []
    problems = []
    if not config.OIDC_ISSUER.startswith("https://"):
        problems.append(
            f"VENDORRISK_OIDC_ISSUER must be the provider's https:// issuer URL, "
            f"not {config.OIDC_ISSUER!r}"
        )
    if not config.OIDC_CLIENT_ID or not config.OIDC_CLIENT_SECRET:
        problems.append(
            "VENDORRISK_OIDC_CLIENT_ID and VENDORRISK_OIDC_CLIENT_SECRET must be set to the "
            "application registered at the provider"
        )
    try:
        if not parse_role_map(config.OIDC_ROLE_MAP):
            problems.append(
                "VENDORRISK_OIDC_ROLE_MAP must map at least one group to a role "
                "(for example: vr-admins=admin,vr-audit=auditor)"
            )
    except ValueError as exc:
        problems.append(f"VENDORRISK_OIDC_ROLE_MAP: {exc}")
    return problems


CONFIGS = {
    "development": DevelopmentConfig,
    "test": TestConfig,
    "production": ProductionConfig,
}


def load_config(name: str | None = None) -> Config:
    """Build the configuration named by `name` or VENDORRISK_ENV (default: development)."""
    key = name or os.environ.get("VENDORRISK_ENV", "development")
    try:
        return CONFIGS[key]()
    except KeyError:
        raise RuntimeError(
            f"VENDORRISK_ENV must be one of {sorted(CONFIGS)}, not {key!r}"
        ) from None

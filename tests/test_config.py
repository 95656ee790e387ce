"""Configuration from VENDORRISK_* variables."""

import pytest

from vendorrisk.config import INSTANCE_DIR, DevelopmentConfig, ProductionConfig, load_config


def test_defaults_use_sqlite_in_instance_and_tokyo_time(monkeypatch):
    for name in ("DATABASE_URL", "TIMEZONE", "BASE_URL"):
        monkeypatch.delenv(f"VENDORRISK_{name}", raising=False)
    config = DevelopmentConfig()
    assert f"sqlite:///{INSTANCE_DIR / 'vendorrisk.sqlite3'}" == config.SQLALCHEMY_DATABASE_URI
    assert config.TIMEZONE == "Asia/Tokyo"
    assert config.BASE_URL == "http://127.0.0.1:5000"


def test_variables_are_read_and_typed(monkeypatch):
    monkeypatch.setenv("VENDORRISK_DATABASE_URL", "postgresql+psycopg://u@db/vr")
    monkeypatch.setenv("VENDORRISK_MAIL_PORT", "587")
    monkeypatch.setenv("VENDORRISK_MAIL_USE_TLS", "yes")
    monkeypatch.setenv("VENDORRISK_BASE_URL", "https://vr.example.com/")
    config = DevelopmentConfig()
    assert config.SQLALCHEMY_DATABASE_URI == "postgresql+psycopg://u@db/vr"
    assert config.MAIL_PORT == 587
    assert config.MAIL_USE_TLS is True
    assert config.BASE_URL == "https://vr.example.com"


@pytest.mark.parametrize("name,value", [("MAIL_PORT", "twenty-five"), ("MAIL_USE_TLS", "maybe")])
def test_bad_values_are_refused_with_the_variable_named(monkeypatch, name, value):
    monkeypatch.setenv(f"VENDORRISK_{name}", value)
    with pytest.raises(RuntimeError, match=f"VENDORRISK_{name}"):
        DevelopmentConfig()


PRODUCTION = {
    "SECRET_KEY": "x" * 64,
    "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379/0",
    "TRUSTED_HOSTS": "vendorrisk.example.co.jp, 127.0.0.1",
    "BASE_URL": "https://vendorrisk.example.co.jp",
}


@pytest.fixture
def production_env(monkeypatch):
    for name, value in PRODUCTION.items():
        monkeypatch.setenv(f"VENDORRISK_{name}", value)
    return monkeypatch


@pytest.mark.parametrize("secret", [None, "dev-insecure-key-change-me", "short"])
def test_production_refuses_to_start_without_a_real_secret_key(production_env, secret):
    if secret is None:
        production_env.delenv("VENDORRISK_SECRET_KEY", raising=False)
    else:
        production_env.setenv("VENDORRISK_SECRET_KEY", secret)
    with pytest.raises(RuntimeError, match="VENDORRISK_SECRET_KEY"):
        ProductionConfig()


@pytest.mark.parametrize(
    "name,value,says",
    [
        ("RATELIMIT_STORAGE_URI", None, "redis://"),
        ("TRUSTED_HOSTS", None, "host names"),
        ("TRUSTED_HOSTS", " , ", "host names"),
        ("BASE_URL", None, "https://"),
        ("BASE_URL", "http://vendorrisk.example.co.jp", "https://"),
    ],
)
def test_production_refuses_a_topology_that_is_unsafe_to_serve(production_env, name, value, says):
    if value is None:
        production_env.delenv(f"VENDORRISK_{name}")
    else:
        production_env.setenv(f"VENDORRISK_{name}", value)
    with pytest.raises(RuntimeError, match=f"(?s)VENDORRISK_{name}.*{says}"):
        ProductionConfig()


def test_every_problem_is_named_at_once(monkeypatch):
    for name in PRODUCTION:
        monkeypatch.delenv(f"VENDORRISK_{name}", raising=False)
    with pytest.raises(RuntimeError) as refused:
        ProductionConfig()
    assert all(f"VENDORRISK_{name}" in str(refused.value) for name in PRODUCTION)


def test_a_single_process_may_choose_memory_for_its_rate_limits(production_env):
    production_env.setenv("VENDORRISK_RATELIMIT_STORAGE_URI", "memory://")
    assert ProductionConfig().RATELIMIT_STORAGE_URI == "memory://"


def test_production_starts_with_https_cookies_for_this_host_only(production_env):
    config = load_config("production")
    assert config.SESSION_COOKIE_SECURE is True
    assert config.SESSION_COOKIE_NAME == "__Host-session"
    assert config.TRUSTED_HOSTS == ["vendorrisk.example.co.jp", "127.0.0.1"]


def test_unknown_environment_is_refused(monkeypatch):
    monkeypatch.setenv("VENDORRISK_ENV", "staging")
    with pytest.raises(RuntimeError, match="VENDORRISK_ENV"):
        load_config()


@pytest.mark.parametrize("wait_seconds,held_seconds,succeeds", [(4, 1.5, True), (1, 2.5, False)])
def test_a_sqlite_writer_waits_for_the_lock_as_long_as_a_statement_may_run(
    tmp_path, wait_seconds, held_seconds, succeeds
):
    """Another worker holding SQLite's write lock makes a write wait DATABASE_STATEMENT_TIMEOUT
    seconds (pysqlite's own default, 5 s, lost the race under load: 503 in the autosave race)."""
    import sqlite3
    import threading

    import sqlalchemy as sa

    from vendorrisk.config import TestConfig

    path = tmp_path / "locked.sqlite3"
    config = TestConfig()
    config.SQLALCHEMY_DATABASE_URI = f"sqlite:///{path}"
    config.DATABASE_STATEMENT_TIMEOUT = wait_seconds
    engine = sa.create_engine(config.SQLALCHEMY_DATABASE_URI, **config.SQLALCHEMY_ENGINE_OPTIONS)
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE t (n INTEGER)"))
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")
    holder.execute("INSERT INTO t VALUES (1)")
    releaser = threading.Timer(held_seconds, lambda: holder.execute("COMMIT"))
    releaser.start()
    try:
        if succeeds:
            with engine.begin() as conn:
                conn.execute(sa.text("INSERT INTO t VALUES (2)"))
            with engine.connect() as conn:
                assert conn.scalars(sa.text("SELECT n FROM t ORDER BY n")).all() == [1, 2]
        else:
            with (
                pytest.raises(sa.exc.OperationalError, match="database is locked"),
                engine.begin() as conn,
            ):
                conn.execute(sa.text("INSERT INTO t VALUES (2)"))
    finally:
        releaser.join()
        holder.close()
        engine.dispose()

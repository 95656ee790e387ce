"""Configuration from VENDORRISK_* variables."""

import pytest

from config import INSTANCE_DIR, DevelopmentConfig, ProductionConfig, load_config


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


@pytest.mark.parametrize("secret", [None, "dev-insecure-key-change-me", "short"])
def test_production_refuses_to_start_without_a_real_secret_key(monkeypatch, secret):
    if secret is None:
        monkeypatch.delenv("VENDORRISK_SECRET_KEY", raising=False)
    else:
        monkeypatch.setenv("VENDORRISK_SECRET_KEY", secret)
    with pytest.raises(RuntimeError, match="VENDORRISK_SECRET_KEY"):
        ProductionConfig()


def test_production_starts_with_a_real_secret_key(monkeypatch):
    monkeypatch.setenv("VENDORRISK_SECRET_KEY", "x" * 64)
    config = load_config("production")
    assert config.SESSION_COOKIE_SECURE is True


def test_unknown_environment_is_refused(monkeypatch):
    monkeypatch.setenv("VENDORRISK_ENV", "staging")
    with pytest.raises(RuntimeError, match="VENDORRISK_ENV"):
        load_config()

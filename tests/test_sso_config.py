"""Single sign-on settings: read from VENDORRISK_OIDC_*, checked before production starts."""

from __future__ import annotations

import pytest

from vendorrisk import config as settings
from vendorrisk import create_app
from vendorrisk.config import DevelopmentConfig, ProductionConfig
from vendorrisk.web import content_security_policy

PRODUCTION = {
    "SECRET_KEY": "x" * 64,
    "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379/0",
    "TRUSTED_HOSTS": "vendorrisk.example.co.jp",
    "BASE_URL": "https://vendorrisk.example.co.jp",
    "OIDC_ISSUER": "https://login.microsoftonline.com/0000-tenant/v2.0",
    "OIDC_CLIENT_ID": "11111111-2222-3333-4444-555555555555",
    "OIDC_CLIENT_SECRET": "a-secret",
    "OIDC_ROLE_MAP": "vr-admins=admin,vr-audit=auditor",
}


@pytest.fixture
def production_env(monkeypatch):
    for name, value in PRODUCTION.items():
        monkeypatch.setenv(f"VENDORRISK_{name}", value)
    return monkeypatch


def test_the_settings_and_their_defaults(monkeypatch):
    for name in ("OIDC_ISSUER", "OIDC_GROUPS_CLAIM", "OIDC_LABEL", "LOCAL_PASSWORDS"):
        monkeypatch.delenv(f"VENDORRISK_{name}", raising=False)
    config = DevelopmentConfig()
    assert config.OIDC_ISSUER == "" and config.OIDC_GROUPS_CLAIM == "groups"
    assert config.LOCAL_PASSWORDS is True and config.OIDC_LABEL == "single sign-on"
    monkeypatch.setenv("VENDORRISK_LOCAL_PASSWORDS", "off")
    monkeypatch.setenv("VENDORRISK_OIDC_LABEL", "Microsoft Entra ID")
    config = DevelopmentConfig()
    assert config.LOCAL_PASSWORDS is False and config.OIDC_LABEL == "Microsoft Entra ID"


def test_production_starts_with_single_sign_on(production_env):
    assert ProductionConfig().OIDC_ISSUER.startswith("https://")


@pytest.mark.parametrize(
    "name,value,says",
    [
        ("OIDC_ISSUER", "http://idp.example.co.jp", "OIDC_ISSUER must be the provider's https://"),
        ("OIDC_CLIENT_SECRET", "", "OIDC_CLIENT_SECRET must be set"),
        ("OIDC_ROLE_MAP", "", "must map at least one group"),
        ("OIDC_ROLE_MAP", "vr-admins=superuser", "superuser"),
    ],
)
def test_production_refuses_unsafe_single_sign_on(production_env, name, value, says):
    production_env.setenv(f"VENDORRISK_{name}", value)
    with pytest.raises(RuntimeError, match=says):
        ProductionConfig()


def test_production_refuses_no_passwords_and_no_provider(production_env):
    production_env.delenv("VENDORRISK_OIDC_ISSUER")
    production_env.setenv("VENDORRISK_LOCAL_PASSWORDS", "off")
    with pytest.raises(RuntimeError, match="nobody can log in"):
        ProductionConfig()


def test_a_bad_role_map_stops_the_app_from_being_built(tmp_path):
    config = settings.TestConfig()
    config.OIDC_ROLE_MAP = "vr-admins"
    with pytest.raises(RuntimeError, match="VENDORRISK_OIDC_ROLE_MAP"):
        create_app(config)


def test_logout_may_go_on_to_the_provider_under_the_csp():
    policy = content_security_policy("https://login.microsoftonline.com/tenant/v2.0")
    assert policy["form-action"] == "'self' https://login.microsoftonline.com"
    assert content_security_policy("")["form-action"] == "'self'"

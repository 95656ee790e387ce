"""API fixtures: a user (or service account) of a role with a live token, and its header."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import pytest

from tests.conftest import in_app
from vendorrisk import clock
from vendorrisk.models import Role, User
from vendorrisk.services.users import tokens


@dataclass
class Caller:
    user_id: int
    token_id: int
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@pytest.fixture
def api_caller(app, make_user) -> Callable[..., Caller]:
    """A caller of `role` with a token of `scope` (a service account's with service=True)."""

    def make(role: Role | str = Role.procurement, scope: str = "write", service: bool = False,
             days: int = 30) -> Caller:  # fmt: skip
        with in_app(app) as session:
            if service:
                user = tokens.create_service_account(
                    f"svc-{role}-{clock.now().timestamp()}@example.com", "Purchasing", role
                )
            else:
                user = session.get(User, make_user(role).id)
            now = clock.now()
            row, token = tokens.issue(user, "test", scope, now + timedelta(days=days), user, now)
            session.commit()
            return Caller(user.id, row.id, token)

    return make

"""The API against its own OpenAPI 3.1 document (schemathesis over WSGI): no 5xx, and every
answer as the document describes it (status, content type, headers, body schema)."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.blueprints.api.conftest import Caller

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


def test_the_document_is_openapi_3_1(client):
    document = client.get("/api/v1/openapi.json").json
    assert document["openapi"] == "3.1.0"
    supplier = document["components"]["schemas"]["Supplier"]["properties"]
    assert supplier["tier"]["type"] == ["string", "null"]  # 3.1's null, not 3.0's nullable
    assert "/api/v1/suppliers/by-corporate-number/{corporate_number}" in document["paths"]


@pytest.fixture
def caller(api_caller, make_supplier, make_contact) -> Caller:
    supplier = make_supplier(corporate_number="7000012050002")
    make_contact(supplier)
    return api_caller()


def test_the_api_keeps_to_its_document(app, caller):
    """Each operation with a few generated requests (bounded: ~30 s on a slow machine).

    The operations are driven through schemathesis's Python API with Hypothesis directly (its
    pytest fixture loader does not run under this pytest)."""
    api = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operations = [result.ok() for result in api.get_all_operations()]
    assert len(operations) >= 10
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=12,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def keeps_to_it(case):
            case.call_and_validate(headers=caller.headers, checks=CHECKS)

        keeps_to_it()

"""Every operation of ``/api/openapi.json`` fuzzed with schemathesis — 25 valid and 25 invalid examples each, as
``st run --max-examples 25`` would send — by the group's own user on the group's own resources: no 5xx, and every
answer is one the document declares for the operation (status, content type, schema).

Schemathesis' lazy pytest loader does not work with this pytest; each operation is a test of its own here, its cases
drawn from ``APIOperation.as_strategy`` inside a Hypothesis test. What the fuzzer found — bodies in another content
type, JSON nested past the parser's limit, strings holding a lone UTF-16 surrogate, each once a 500 — is kept as
regression tests in ``tests/integration/test_abuse.py`` (``BAD_BODIES``, sent to every route with a body).
"""

from __future__ import annotations

import json

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from devstack.openapi import DOCUMENT
from support.fuzzing import FuzzWorld, excluded

MAX_EXAMPLES = 25
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
SETTINGS = settings(
    max_examples=MAX_EXAMPLES,
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    print_blob=True,
)


def documented() -> list[tuple[str, str, dict]]:
    """The operations of the document ``/api/openapi.json`` serves (the health function serves this file)."""
    paths = json.loads(DOCUMENT.read_text())["paths"]
    return [(m.upper(), p, op) for p, item in sorted(paths.items()) for m, op in sorted(item.items())]


OPERATIONS = [(m, p, op) for m, p, op in documented() if not excluded(m, p)]


@pytest.fixture(scope="session")
def api_schema(devstack):
    return schemathesis.openapi.from_url(f"{devstack.url}/api/openapi.json")


def modes(operation: dict) -> list[GenerationMode]:
    """Invalid cases only where something can be invalid besides the (fixed) path and headers."""
    negatable = "requestBody" in operation or any(p["in"] == "query" for p in operation.get("parameters", []))
    return [GenerationMode.POSITIVE, GenerationMode.NEGATIVE] if negatable else [GenerationMode.POSITIVE]


@pytest.mark.parametrize(("method", "path", "operation"), OPERATIONS, ids=[f"{m} {p}" for m, p, _ in OPERATIONS])
def test_the_operation_answers_as_documented(api_schema, fuzz_world: FuzzWorld, method, path, operation):
    group = fuzz_world.group(method, path)
    names = [p["name"] for p in operation.get("parameters", []) if p["in"] == "path"]
    fixed = {name: group.ids[name] for name in names if name in group.ids}
    api_operation = api_schema[path][method]
    for mode in modes(operation):
        strategy = api_operation.as_strategy(mode, path_parameters=fixed or None, headers=group.headers or None)

        @SETTINGS
        @given(case=strategy)
        def answers_as_documented(case) -> None:
            case.call_and_validate(base_url=fuzz_world.client.base_url, checks=CHECKS)

        answers_as_documented()


def test_only_the_operations_that_end_the_callers_own_session_are_left_out():
    left_out = [(m, p) for m, p, _ in documented() if excluded(m, p)]
    assert {p for _, p in left_out} <= {
        "/api/auth/logout",
        "/api/me/password",
        "/api/me/mfa/totp",
        "/api/me/mfa/totp/verify",
        "/api/me/email",
        "/api/me/email/verify",
        "/api/accounts/{account_id}/users/{user_id}",
    }
    assert len(OPERATIONS) >= len(documented()) - len(left_out)

"""GET/PATCH /api/staff/settings through the settings function, on moto with the table from template.yaml."""

from __future__ import annotations

from typing import Any

import pytest

from balcao.adapters.dynamodb import keys
from balcao.adapters.dynamodb.models import AuditItem
from support.events import api_event, json_body
from support.identity import given_session, given_staff


@pytest.fixture
def staff(aws):
    return given_staff("staff_admin").claims


def settings_event(method: str = "GET", claims: dict[str, str] | None = None, body: Any = None) -> dict[str, Any]:
    return api_event(method, "/api/staff/settings", claims=claims, body=body)


def test_staff_reads_the_defaults(aws, invoke, ddb_calls, staff):
    # Given no saved settings
    # When an administrator reads them
    with ddb_calls() as calls:
        response = invoke("settings", settings_event(claims=staff))
    # Then the defaults come back within the read budget
    assert response["statusCode"] == 200
    body = json_body(response)
    assert body["brand"]["name"] == "Balcão Hosting"
    assert body["locale"] == {"timezone": "America/Sao_Paulo", "default_currency": "BRL", "default_language": "pt-BR"}
    assert calls.total <= 2 and calls.scans == 0


def test_customer_gets_403_in_the_error_shape(aws, invoke):
    customer = given_session("customer-user", "ana@example.com").claims
    response = invoke("settings", settings_event(claims=customer))
    assert response["statusCode"] == 403
    assert json_body(response) == {"error": {"code": "forbidden", "message": "You are not allowed to do this."}}


def test_support_may_read_but_not_change(aws, invoke):
    support = given_staff("staff_support").claims
    assert invoke("settings", settings_event(claims=support))["statusCode"] == 200
    response = invoke("settings", settings_event("PATCH", support, {"brand": {"name": "X"}}))
    assert response["statusCode"] == 403


def test_staff_without_totp_get_mfa_required(aws, invoke):
    response = invoke("settings", settings_event(claims=given_staff("staff_admin", mfa_passed=False).claims))
    assert response["statusCode"] == 403
    assert json_body(response)["error"]["code"] == "mfa_required"


def test_a_revoked_session_is_refused_at_once(aws, invoke, staff):
    from balcao.adapters.dynamodb.identity import DynamoIdentityStore

    session_key = staff["origin_jti"]
    DynamoIdentityStore().revoke_session(session_key, __import__("support.identity", fromlist=["NOW"]).NOW)
    assert invoke("settings", settings_event(claims=staff))["statusCode"] == 401


def test_patch_merges_saves_and_audits(aws, invoke, staff):
    # When an administrator renames the brand
    response = invoke("settings", settings_event("PATCH", staff, body={"brand": {"name": "Hospeda Já"}}))
    # Then the change is stored and the rest kept
    assert response["statusCode"] == 200
    assert json_body(response)["brand"]["name"] == "Hospeda Já"
    assert json_body(invoke("settings", settings_event(claims=staff)))["brand"]["primary_colour"] == "#0B5CAD"
    # And an audit entry says who did it from where
    [entry] = list(AuditItem.query(keys.user_audit_pk("staff-staff_admin")))
    assert entry.action == "PATCH /api/staff/settings"
    assert entry.source_ip == "203.0.113.10"
    assert entry.staff == 1


def test_invalid_values_answer_422_with_fields_and_change_nothing(aws, invoke, staff):
    response = invoke(
        "settings",
        settings_event("PATCH", staff, body={"brand": {"primary_colour": "red"}, "locale": {"timezone": "Mars/Base"}}),
    )
    assert response["statusCode"] == 422
    error = json_body(response)["error"]
    assert error["code"] == "validation_error"
    assert {f["field"] for f in error["fields"]} == {"brand.primary_colour", "locale.timezone"}
    assert json_body(invoke("settings", settings_event(claims=staff)))["brand"]["primary_colour"] == "#0B5CAD"


def test_errors_speak_the_callers_language(aws, invoke):
    # A user's stored language wins over Accept-Language
    spanish_staff = given_staff("staff_admin", language="es").claims
    event = api_event(
        "PATCH",
        "/api/staff/settings",
        claims=spanish_staff,
        body={"brand": {"bogus": 1}},
        headers={"Accept-Language": "pt-BR"},
    )
    error = json_body(invoke("settings", event))["error"]
    assert error["message"] == "Algunos campos no son válidos."
    assert error["fields"] == [
        {"field": "brand.bogus", "code": "not_allowed", "message": "Este campo no está permitido."}
    ]


def test_unparseable_body_is_a_422(aws, invoke, staff):
    response = invoke("settings", api_event("PATCH", "/api/staff/settings", claims=staff, raw_body="{not json"))
    assert response["statusCode"] == 422
    assert json_body(response)["error"]["code"] == "validation_error"

"""The resolver factory: one error shape, statuses in one place, validation as 422 with fields."""

from __future__ import annotations

from pydantic import BaseModel, Field

from balcao.domain.errors import ConflictError, FieldProblem, InvalidInputError, NotFoundError, RateLimitedError
from balcao.runtime import access
from balcao.runtime.http import STATUS_BY_CODE, rest_resolver
from support.events import api_event, claims_for, header, json_body


class Payload(BaseModel):
    name: str = Field(min_length=2)
    quantity: int = Field(ge=1)


def build_app():
    app = rest_resolver()

    @app.post("/things", **access.public())
    def create(payload: Payload) -> dict[str, str]:
        return {"name": payload.name}

    @app.get("/missing", **access.public())
    def missing() -> dict[str, str]:
        raise NotFoundError()

    @app.get("/busy", **access.public())
    def busy() -> dict[str, str]:
        raise RateLimitedError(retry_after_seconds=30)

    @app.get("/conflict", **access.signed_in())
    def conflict() -> dict[str, str]:
        raise ConflictError()

    @app.get("/broken", **access.public())
    def broken() -> dict[str, str]:
        raise RuntimeError("secret internals")

    @app.get("/fields", **access.public())
    def fields() -> dict[str, str]:
        raise InvalidInputError([FieldProblem("address.postal_code", "invalid", "This value is not valid.")])

    return app


def call(app, event):
    return app.resolve(event, None)


def test_every_code_has_one_status():
    assert STATUS_BY_CODE == {
        "bad_request": 400,  # API.md, webhooks: an unparseable body
        "validation_error": 422,
        "invalid_credentials": 401,
        "unauthorized": 401,
        "forbidden": 403,
        "mfa_required": 403,
        "not_found": 404,
        "conflict": 409,
        "rate_limited": 429,
        "internal_error": 500,
        "provider_unavailable": 503,
    }


def test_validation_errors_name_each_field():
    response = call(build_app(), api_event("POST", "/things", body={"name": "x", "quantity": 0, "extra": 1}))
    assert response["statusCode"] == 422
    error = json_body(response)["error"]
    assert error["code"] == "validation_error"
    assert {(f["field"], f["code"]) for f in error["fields"]} == {("name", "too_short"), ("quantity", "too_small")}


def test_missing_fields_are_required():
    error = json_body(call(build_app(), api_event("POST", "/things", body={})))["error"]
    assert {(f["field"], f["code"]) for f in error["fields"]} == {("name", "required"), ("quantity", "required")}


def test_domain_errors_map_to_their_status_in_the_callers_language():
    app = build_app()
    response = call(app, api_event("GET", "/missing", headers={"Accept-Language": "pt-BR"}))
    assert response["statusCode"] == 404
    assert json_body(response) == {"error": {"code": "not_found", "message": "Não encontrado."}}
    fields = json_body(call(app, api_event("GET", "/fields", headers={"Accept-Language": "es"})))["error"]["fields"]
    assert fields == [{"field": "address.postal_code", "code": "invalid", "message": "Este valor no es válido."}]


def test_rate_limits_say_when_to_retry():
    response = call(build_app(), api_event("GET", "/busy"))
    assert response["statusCode"] == 429 and header(response, "Retry-After") == "30"


def test_unknown_routes_are_404_in_the_error_shape():
    response = call(build_app(), api_event("GET", "/nope"))
    assert response["statusCode"] == 404 and json_body(response)["error"]["code"] == "not_found"


def test_unexpected_errors_leak_nothing():
    response = call(build_app(), api_event("GET", "/broken"))
    assert response["statusCode"] == 500
    assert json_body(response)["error"]["code"] == "internal_error"
    assert "secret" not in response["body"]


class OneSessionReader:
    """A fake access reader knowing one live session."""

    def __init__(self, session_key: str, user_id: str) -> None:
        from datetime import UTC, datetime, timedelta

        from balcao.domain.identity import Session, SessionKind

        now = datetime.now(UTC)
        self.session = Session(
            session_key, "S1", user_id, "u@example.com", "en", SessionKind.API, now, now, now + timedelta(days=1)
        )

    def load(self, session_key, user_id, account_id, *, with_account=False, with_user=False):
        from balcao.services.ports import AccessRead

        return AccessRead(session=self.session if session_key == self.session.session_key else None)


def test_signed_in_routes_refuse_missing_claims_and_unknown_sessions(monkeypatch):
    monkeypatch.setattr(access, "_reader", OneSessionReader("live-session", "u1"))
    app = build_app()
    assert call(app, api_event("GET", "/conflict"))["statusCode"] == 401
    assert call(app, api_event("GET", "/conflict", claims=claims_for("u1", session_key="revoked")))["statusCode"] == 401
    assert (
        call(app, api_event("GET", "/conflict", claims=claims_for("u1", session_key="live-session")))["statusCode"]
        == 409
    )

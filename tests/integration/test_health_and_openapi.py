"""Health, the merged OpenAPI document (valid, complete, in step with the code) and Swagger UI."""

from __future__ import annotations

import json

from openapi_spec_validator import validate

from devstack import openapi, template
from support.events import api_event, json_body

HEALTH = "health"


def test_health_answers_ok(invoke):
    response = invoke(HEALTH, api_event("GET", "/health"))
    assert response["statusCode"] == 200
    assert json_body(response) == {"status": "ok"}


def test_the_committed_document_is_what_the_code_declares():
    assert openapi.DOCUMENT.read_text() == openapi.render(openapi.build_document()), "run 'make openapi'"


def test_the_document_is_valid_openapi_3_with_every_api_route():
    document = json.loads(openapi.DOCUMENT.read_text())
    validate(document)
    declared = {(op, path) for path, item in document["paths"].items() for op in item}
    for route in template.api_routes():
        if route.function in openapi.HTML_FUNCTIONS:
            continue
        assert (route.method.lower(), route.path) in declared, f"{route.method} {route.path} is not documented"


def test_every_operation_documents_its_errors_and_access():
    document = json.loads(openapi.DOCUMENT.read_text())
    for path, item in document["paths"].items():
        for method, operation in item.items():
            access = operation.get("x-balcao-access")
            assert access in {"public", "self", "account", "staff"}, f"{method} {path} declares no access"
            if access != "public":
                assert {"401"} <= set(operation["responses"]), f"{method} {path} does not document 401"
            if access == "staff":
                assert "403" in operation["responses"]
            for status, response in operation["responses"].items():
                if status.startswith(("4", "5")):
                    assert response["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}


def test_openapi_json_is_served(invoke):
    response = invoke(HEALTH, api_event("GET", "/api/openapi.json"))
    assert response["statusCode"] == 200
    assert json_body(response)["info"]["title"] == "Balcão API"


def test_swagger_ui_is_served_without_a_cdn(invoke):
    page = invoke(HEALTH, api_event("GET", "/api/docs"))
    assert page["statusCode"] == 200
    assert "/api/docs/swagger-ui.js" in page["body"] and "http" not in page["body"].split("<body>")[1]
    asset = invoke(HEALTH, api_event("GET", "/api/docs/swagger-ui.js", resource="/api/docs/{asset}"))
    assert asset["statusCode"] == 200 and "SwaggerUIBundle" in asset["body"]
    assert invoke(HEALTH, api_event("GET", "/api/docs/nope.js", resource="/api/docs/{asset}"))["statusCode"] == 404

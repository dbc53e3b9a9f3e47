"""The portal shell: pages in three languages, security headers, CSRF on every form, static files."""

from __future__ import annotations

import re
from urllib.parse import urlencode

import pytest

from support.events import api_event, header

PORTAL = "portal"


def page(invoke, path="/", *, resource=None, cookies="", language=None, method="GET", form=None, query=None):
    headers = {"Accept": "text/html"}
    if cookies:
        headers["Cookie"] = cookies
    if language:
        headers["Accept-Language"] = language
    raw = None
    if form is not None:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
        raw = urlencode(form)
    return invoke(PORTAL, api_event(method, path, resource=resource, headers=headers, raw_body=raw, query=query))


def set_cookies(response) -> list[str]:
    return list((response.get("multiValueHeaders") or {}).get("Set-Cookie", []))


@pytest.mark.parametrize(
    ("accept", "lang", "heading"),
    [
        ("pt-BR,pt;q=0.9", "pt-BR", "Bem-vindo à Central do Cliente Balcão Hosting"),
        ("es-ES", "es", "Te damos la bienvenida al área de cliente de Balcão Hosting"),
        ("en-GB", "en", "Welcome to the Balcão Hosting client area"),
    ],
)
def test_home_in_each_language(aws, invoke, accept, lang, heading):
    response = page(invoke, language=accept)
    assert response["statusCode"] == 200
    assert f'<html lang="{lang}">' in response["body"]
    assert heading in response["body"]


def test_every_page_carries_the_security_headers(aws, invoke):
    response = page(invoke)
    csp = header(response, "Content-Security-Policy")
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
    bucket = aws.ref("AttachmentsBucket")
    assert re.search(r"form-action 'self' https?://\S*" + re.escape(bucket), csp), csp  # uploads post to the bucket
    assert "unsafe-inline" not in csp
    assert header(response, "X-Frame-Options") == "DENY"
    assert header(response, "Referrer-Policy") == "same-origin"
    assert header(response, "X-Content-Type-Options") == "nosniff"


def test_a_visitor_gets_a_csrf_cookie_and_forms_carry_it(aws, invoke):
    response = page(invoke)
    [cookie] = [c for c in set_cookies(response) if c.startswith("balcao_csrf=")]
    token = cookie.split(";")[0].split("=", 1)[1]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    assert f'name="csrf_token" value="{token}"' in response["body"]


def test_a_post_without_the_csrf_token_is_refused(aws, invoke):
    response = page(
        invoke,
        "/language",
        method="POST",
        form={"language": "es", "next": "/"},
        cookies="balcao_csrf=" + "a" * 43,
        language="en",
    )
    assert response["statusCode"] == 403
    assert "expired" in response["body"]


def test_the_language_choice_is_remembered(aws, invoke):
    token = "b" * 43
    response = page(
        invoke,
        "/language",
        method="POST",
        cookies=f"balcao_csrf={token}",
        form={"csrf_token": token, "language": "es", "next": "/"},
    )
    assert response["statusCode"] == 303 and header(response, "Location") == "/"
    [cookie] = [c for c in set_cookies(response) if c.startswith("balcao_lang=")]
    assert cookie.startswith("balcao_lang=es;")
    again = page(invoke, cookies=f"balcao_csrf={token}; balcao_lang=es", language="pt-BR")
    assert '<html lang="es">' in again["body"]


def test_redirects_stay_on_the_site(aws, invoke):
    token = "c" * 43
    for target in ("https://evil.example/", "//evil.example", "/\\evil"):
        response = page(
            invoke,
            "/language",
            method="POST",
            cookies=f"balcao_csrf={token}",
            form={"csrf_token": token, "language": "en", "next": target},
        )
        assert header(response, "Location") == "/"


def test_static_files_are_cached_and_confined(aws, invoke):
    response = page(invoke, "/static/portal.css", resource="/static/{path}")
    assert response["statusCode"] == 200 and header(response, "Cache-Control") == "public, max-age=3600"
    assert header(response, "Content-Type").startswith("text/css")
    assert page(invoke, "/static/..%2Fi18n.py", resource="/static/{path}")["statusCode"] == 404
    theme = page(invoke, "/static/theme.css", resource="/static/{path}")
    assert "--brand: #0B5CAD" in theme["body"]


def test_unknown_pages_render_a_translated_404(aws, invoke):
    response = page(invoke, "/nope", language="pt-BR")
    assert response["statusCode"] == 404
    assert "Página não encontrada" in response["body"]

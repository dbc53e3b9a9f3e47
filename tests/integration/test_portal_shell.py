"""The portal shell: pages in three languages, security headers, CSRF on every form, static files."""

from __future__ import annotations

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
    assert "form-action 'self';" in csp  # forms post to the portal only; the upload page adds the bucket
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


@pytest.fixture
def theme(tmp_path, monkeypatch):
    """A theme folder as a hosting company ships it in a layer: ``templates/`` overrides, ``static/`` files."""
    from balcao.web import rendering

    (tmp_path / "templates").mkdir()
    (tmp_path / "static").mkdir()
    monkeypatch.setenv("BALCAO_TEMPLATE_OVERRIDES", str(tmp_path / "templates"))
    rendering.environment.cache_clear()
    yield tmp_path
    monkeypatch.delenv("BALCAO_TEMPLATE_OVERRIDES")
    rendering.environment.cache_clear()


def test_a_theme_overrides_a_template_and_serves_its_own_files(aws, invoke, theme):
    # Given a theme whose home page extends the stock layout, and a logo in its static folder
    (theme / "templates" / "home.html").write_text(
        '{% extends "base.html" %}{% block content %}<h1>{{ _("Welcome") }}, Hospedagem Exemplo</h1>{% endblock %}',
        encoding="utf-8",
    )
    (theme / "static" / "logo.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg"/>', encoding="utf-8")
    (theme / "templates" / "theme").mkdir()
    (theme / "templates" / "theme" / "head.html").write_text(
        '<link rel="stylesheet" href="/static/theme/site.css">', encoding="utf-8"
    )
    # When a visitor opens the home page and the logo
    home = page(invoke)
    logo = page(invoke, "/static/theme/logo.svg", resource="/static/theme/{path}")
    # Then the theme's page is served inside the stock layout (navigation, language switcher, CSRF)
    assert home["statusCode"] == 200
    assert "Hospedagem Exemplo</h1>" in home["body"] and 'name="csrf_token"' in home["body"]
    assert '<link rel="stylesheet" href="/static/theme/site.css">' in home["body"]  # its own stylesheet too
    assert logo["statusCode"] == 200 and header(logo, "Content-Type").startswith("image/svg+xml")
    # And nothing outside the theme's static folder is reachable through it
    escape = page(invoke, "/static/theme/..%2Ftemplates%2Fhome.html", resource="/static/theme/{path}")
    assert escape["statusCode"] == 404


def test_brand_colours_and_a_hosted_logo_reach_the_pages(aws, invoke):
    from balcao.adapters.dynamodb.settings import DynamoSettingsStore, forget_cached_settings

    # Given staff set the brand: colours and a logo on the company's CDN
    brand = {"name": "Exemplo Host", "logo_url": "https://cdn.exemplo.com.br/logo.svg", "primary_colour": "#123456"}
    DynamoSettingsStore().save({"brand": brand}, expected_version=0)
    forget_cached_settings()
    # When a visitor opens the home page and the theme stylesheet
    home = page(invoke)
    css = page(invoke, "/static/theme.css")
    # Then the logo shows, the CSP allows exactly its origin, and the colour is in the stylesheet
    assert '<img src="https://cdn.exemplo.com.br/logo.svg"' in home["body"]
    assert "img-src 'self' data: https://cdn.exemplo.com.br;" in header(home, "Content-Security-Policy")
    assert "--brand: #123456" in css["body"]


@pytest.mark.parametrize("logo_url", ["javascript:alert(1)", "http://cdn.example.com/logo.png", 'https://x.io/a"b'])
def test_a_logo_must_be_https_or_served_here(logo_url):
    from pydantic import ValidationError

    from balcao.services.company_settings import BrandSettings

    with pytest.raises(ValidationError):
        BrandSettings(logo_url=logo_url)

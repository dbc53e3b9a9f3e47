"""Templates compiled when the layer is built render exactly as templates compiled on the fly, in every language,
and a page or an email then compiles nothing."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from jinja2 import Environment

from balcao.services.notifications import EMAILS
from balcao.web import rendering
from balcao.web.emails import JinjaEmailRenderer
from balcao.web.portal import PortalRequest, error_page
from support.emails import PAYMENT_FAILED, SITE


def rendered(language: str) -> tuple[str, str, str, str]:
    email = JinjaEmailRenderer().render(
        EMAILS["payment.failed"].template,
        language,
        {"data": PAYMENT_FAILED, "site": SITE, "recipient": None, "account_name": "Loja da Ana", "occurred_at": None},
    )
    page = error_page(PortalRequest(language=language, cookies={}), 404)
    return email.subject, email.text, email.html, str(page.body)


@pytest.fixture(scope="module")
def compiled_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every template compiled once, as the layer's build does (the code is the same for every language)."""
    directory = tmp_path_factory.mktemp("layer") / "compiled-templates"
    assert rendering.compile_all(directory) == len(list(directory.iterdir())) > 100
    return directory


@pytest.fixture(autouse=True)
def _fresh_environments() -> Iterator[None]:
    rendering.environment.cache_clear()
    yield
    rendering.environment.cache_clear()


@pytest.mark.parametrize("language", ["pt-BR", "es", "en"])
def test_compiled_templates_render_as_templates_compiled_on_the_fly(
    compiled_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, language: str
) -> None:
    # Given the pages and emails rendered from their sources
    monkeypatch.setattr(rendering, "COMPILED_DIR", tmp_path / "none")
    from_sources = rendered(language)

    # When they render with the compiled templates, and rendering may no longer compile anything
    monkeypatch.setattr(rendering, "COMPILED_DIR", compiled_dir)
    rendering.environment.cache_clear()

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("a template was compiled at render time")

    monkeypatch.setattr(Environment, "compile", refuse)

    # Then the same pages and emails come out, from the compiled code
    assert rendered(language) == from_sources


def test_a_changed_template_of_the_same_name_is_compiled_again(
    compiled_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the compiled templates and a theme overriding the error page
    monkeypatch.setattr(rendering, "COMPILED_DIR", compiled_dir)
    theme = tmp_path / "theme"
    (theme / "errors").mkdir(parents=True)
    (theme / "errors" / "error.html").write_text("<p>{{ status_code }} — tema da empresa</p>")

    # When the page renders with the theme in place
    monkeypatch.setenv(rendering.OVERRIDES_VARIABLE, str(theme))
    body = str(error_page(PortalRequest(language="pt-BR", cookies={}), 404).body)

    # Then the theme's template is the one rendered (its checksum differs from the compiled one's)
    assert body == "<p>404 — tema da empresa</p>"

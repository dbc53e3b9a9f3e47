"""Jinja2 rendering for the portal and the emails: one environment per language, autoescaped, with Babel filters.

Templates come from ``BALCAO_TEMPLATE_OVERRIDES`` (a folder a hosting company may mount to restyle pages without
forking; see docs/theming.md) and then from ``balcao/web/templates``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, MutableMapping
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import (
    BaseLoader,
    ChoiceLoader,
    Environment,
    FileSystemBytecodeCache,
    FileSystemLoader,
    StrictUndefined,
    Template,
)
from jinja2.bccache import Bucket

from balcao.domain.money import Currency, Money
from balcao.web import i18n

TEMPLATES_DIR = Path(__file__).parent / "templates"
COMPILED_DIR = Path(__file__).parent / "compiled-templates"  # written by the layer's build (compile_all)
OVERRIDES_VARIABLE = "BALCAO_TEMPLATE_OVERRIDES"
HTML_VARIANT = "#html"  # a text partial compiled for an HTML template that imports it (see _Environment)


def theme_static_dir() -> Path | None:
    """``static/`` beside the override folder, served at ``/static/theme/`` (None without a theme)."""
    override = os.environ.get(OVERRIDES_VARIABLE)
    folder = Path(override).parent / "static" if override else None
    return folder if folder is not None and folder.is_dir() else None


class _Loader(ChoiceLoader):
    """Finds ``name#html`` as ``name``; compiles it under its own name (so with its own autoescaping)."""

    def get_source(self, environment: Environment, template: str) -> tuple[str, str | None, Callable[[], bool] | None]:
        return super().get_source(environment, template.removesuffix(HTML_VARIANT))

    def load(self, environment: Environment, name: str, globals: MutableMapping[str, Any] | None = None) -> Template:
        return BaseLoader.load(self, environment, name, globals)


class _Environment(Environment):
    def join_path(self, template: str, parent: str) -> str:
        """A text partial (``email/_services.txt``) imported or included by an HTML template is compiled as HTML
        (autoescaped), so its macros escape what they interpolate; text templates get it as plain text. Without
        this, a macro of a text partial returns unescaped text that the HTML template takes as safe markup."""
        if parent.endswith(".html") and template.endswith(".txt") and Path(template).name.startswith("_"):
            return template + HTML_VARIANT
        return template


def _autoescape(name: str | None) -> bool:
    return name is None or name.endswith((".html", ".xml", HTML_VARIANT))


def _loader() -> ChoiceLoader:
    folders: list[str] = []
    override = os.environ.get(OVERRIDES_VARIABLE)
    if override and Path(override).is_dir():
        folders.append(override)
    folders.append(str(TEMPLATES_DIR))
    return _Loader([FileSystemLoader(folders)])


class _CompiledTemplates(FileSystemBytecodeCache):
    """The templates' code, compiled when the layer is built: a cold start loads a page's templates instead of
    compiling them (tens of milliseconds a page). Keyed by the template's name (its path differs between the build and
    Lambda); Jinja compares the source's checksum, so a theme's template of the same name is compiled as usual.
    Lambda's code directories are read-only: what a container compiles stays in its memory."""

    def __init__(self, directory: Path, *, writable: bool) -> None:
        super().__init__(str(directory))
        self.writable = writable

    def get_cache_key(self, name: str, filename: str | None = None) -> str:
        return super().get_cache_key(name)

    def dump_bytecode(self, bucket: Bucket) -> None:
        if self.writable:
            super().dump_bytecode(bucket)


def _configured(language: str, bytecode_cache: FileSystemBytecodeCache | None) -> Environment:
    env = _Environment(
        loader=_loader(),
        autoescape=_autoescape,
        undefined=StrictUndefined,
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
        bytecode_cache=bytecode_cache,
    )
    env.install_gettext_translations(i18n.translations(language), newstyle=True)  # type: ignore[attr-defined]
    env.globals["language"] = language
    env.filters["money"] = lambda value: _money(value, language)
    env.filters["day"] = lambda value, style="medium": _day(value, language, style)
    env.filters["number"] = lambda value: i18n.format_number(value, language)
    return env


def compile_all(directory: Path = COMPILED_DIR) -> int:
    """Compile every template (and the HTML variant of each text partial) into ``directory``; how many. The code
    is the same for every language (translations are looked up when a template renders)."""
    directory.mkdir(parents=True, exist_ok=True)
    env = _configured("en", _CompiledTemplates(directory, writable=True))
    names = sorted(p.relative_to(TEMPLATES_DIR).as_posix() for p in TEMPLATES_DIR.rglob("*") if p.is_file())
    names += [n + HTML_VARIANT for n in names if n.endswith(".txt") and Path(n).name.startswith("_")]
    for name in names:
        env.get_template(name)
    return len(names)


@cache
def environment(language: str) -> Environment:
    return _configured(language, _CompiledTemplates(COMPILED_DIR, writable=False) if COMPILED_DIR.is_dir() else None)


def render(template: str, language: str, **context: Any) -> str:
    return environment(language).get_template(template).render(**context)


def _money(value: Money | dict[str, Any] | None, language: str) -> str:
    if value is None:
        return ""
    if isinstance(value, dict):
        value = Money(int(value["amount"]), Currency(value["currency"]))
    return i18n.format_money(value, language)


def _day(value: date | datetime | str | None, language: str, style: str) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        value = date.fromisoformat(value[:10])
    if isinstance(value, datetime):
        value = value.date()
    return i18n.format_day(value, language, style)

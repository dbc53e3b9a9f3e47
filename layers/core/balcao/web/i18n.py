"""Languages: pt-BR, es and en through Babel's gettext catalogs, one ``.po`` file per capability and language.

Catalogs live in ``translations/<locale>/LC_MESSAGES/*.po`` and are compiled to ``.mo`` by ``make catalogs`` and by
the layer build; every domain of a locale is merged into one ``Translations`` object. Money, dates and numbers
are formatted by Babel in the recipient's locale.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from functools import cache
from pathlib import Path

from babel import Locale
from babel.dates import format_date, format_datetime
from babel.numbers import format_currency, format_decimal
from babel.support import NullTranslations, Translations

from balcao.domain.money import Money

LANGUAGES: tuple[str, ...] = ("pt-BR", "es", "en")
DEFAULT_LANGUAGE = "en"
TRANSLATIONS_DIR = Path(__file__).parent / "translations"
PSEUDO_LANGUAGE = "x-pseudo"  # a test-only locale that marks every translated string


def babel_locale(language: str) -> str:
    """``pt-BR`` → ``pt_BR`` (Babel's and gettext's spelling)."""
    return language.replace("-", "_")


def normalise_language(value: str | None) -> str | None:
    """Map a tag such as ``pt``, ``pt-br``, ``es-ES`` or ``en_US`` to one of ``LANGUAGES`` (or None)."""
    if not value:
        return None
    tag = value.strip().replace("_", "-").lower()
    for language in LANGUAGES:
        if tag == language.lower():
            return language
    primary = tag.split("-")[0]
    for language in LANGUAGES:
        if language.lower().split("-")[0] == primary:
            return language
    return None


def negotiate(accept_language: str | None, default: str = DEFAULT_LANGUAGE) -> str:
    """Pick the best supported language from an ``Accept-Language`` header (q-values honoured)."""
    if not accept_language:
        return default
    weighted: list[tuple[float, int, str]] = []
    for position, part in enumerate(accept_language.split(",")):
        pieces = part.strip().split(";")
        quality = 1.0
        for parameter in pieces[1:]:
            name, _, value = parameter.strip().partition("=")
            if name == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        weighted.append((-quality, position, pieces[0]))
    for negative_quality, _, tag in sorted(weighted):
        language = normalise_language(tag)
        if language and negative_quality < 0:
            return language
    return default


@cache
def translations(language: str) -> NullTranslations:
    """Every catalog of ``language`` merged; English falls back to the msgids themselves."""
    if language == PSEUDO_LANGUAGE:
        return PseudoTranslations()
    folder = TRANSLATIONS_DIR / babel_locale(language) / "LC_MESSAGES"
    merged: Translations | None = None
    for compiled in sorted(folder.glob("*.mo")):
        with compiled.open("rb") as handle:
            catalog = Translations(handle, domain=compiled.stem)
        if merged is None:
            merged = catalog
        else:
            merged.merge(catalog)
    return merged if merged is not None else NullTranslations()


def gettext(language: str, message: str) -> str:
    return translations(language).gettext(message)


def ngettext(language: str, singular: str, plural: str, count: int) -> str:
    return translations(language).ngettext(singular, plural, count)


def format_money(money: Money, language: str) -> str:
    """``R$ 1.234,56`` in pt-BR, ``1.234,56 €`` in es, ``€1,234.56`` in en."""
    return format_currency(money.to_decimal(), money.currency.value, locale=_locale(language))


def format_day(day: date, language: str, style: str = "medium") -> str:
    return format_date(day, format=style, locale=_locale(language))


def format_moment(moment: datetime, language: str, timezone: str, style: str = "medium") -> str:
    from zoneinfo import ZoneInfo

    return format_datetime(moment, format=style, tzinfo=ZoneInfo(timezone), locale=_locale(language))


def format_number(value: int | Decimal, language: str) -> str:
    return format_decimal(value, locale=_locale(language))


def _locale(language: str) -> Locale:
    return Locale.parse(babel_locale(language if language in LANGUAGES else DEFAULT_LANGUAGE))


class PseudoTranslations(NullTranslations):
    """Wraps every translated string in ``⟦…⟧`` so a page walk can spot text that bypassed translation."""

    def gettext(self, message: str) -> str:
        return f"⟦{message}⟧"

    def ngettext(self, msgid1: str, msgid2: str, n: int) -> str:
        return f"⟦{msgid1 if n == 1 else msgid2}⟧"

    def pgettext(self, context: str, message: str) -> str:
        return f"⟦{message}⟧"

    def npgettext(self, context: str, singular: str, plural: str, num: int) -> str:
        return f"⟦{singular if num == 1 else plural}⟧"

    # Jinja2 prefers Babel's ``u``-prefixed aliases when they exist; they must mark too.
    ugettext = gettext
    ungettext = ngettext
    upgettext = pgettext
    unpgettext = npgettext

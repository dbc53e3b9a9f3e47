"""Languages, catalogs and Babel formats."""

from __future__ import annotations

from datetime import date

import pytest

from balcao.domain.money import Money
from balcao.web import i18n


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("es-ES,es;q=0.9,en;q=0.8", "es"),
        ("pt-br", "pt-BR"),
        ("pt-PT,pt;q=0.9", "pt-BR"),
        ("fr-FR, en;q=0.5", "en"),
        ("de, fr", "en"),
        ("en;q=0.1, es;q=0.9", "es"),
        ("es;q=0", "en"),
        (None, "en"),
        ("garbage;;;q=x", "en"),
    ],
)
def test_accept_language_negotiation(header, expected):
    assert i18n.negotiate(header) == expected


def test_money_is_formatted_per_locale():
    assert i18n.format_money(Money.of(123456, "BRL"), "pt-BR") == "R$\xa01.234,56"
    assert i18n.format_money(Money.of(123456, "EUR"), "es") == "1.234,56\xa0€"
    assert i18n.format_money(Money.of(123456, "EUR"), "en") == "€1,234.56"


def test_dates_are_formatted_per_locale():
    assert i18n.format_day(date(2026, 3, 5), "pt-BR", "short") == "05/03/2026"
    assert i18n.format_day(date(2026, 3, 5), "es", "short") == "5/3/26"


def test_every_language_has_its_catalog():
    for language in ("pt-BR", "es"):
        assert i18n.gettext(language, "Not found.") != "Not found."
    assert i18n.gettext("en", "Not found.") == "Not found."


def test_the_pseudo_locale_marks_every_translated_string():
    assert i18n.gettext(i18n.PSEUDO_LANGUAGE, "Not found.") == "⟦Not found.⟧"

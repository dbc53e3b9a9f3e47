"""Company settings: defaults, partial updates, validation and concurrent saves (with an in-memory store)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from balcao.domain.errors import ConflictError, InvalidInputError
from balcao.services.company_settings import deep_merge, load_company_settings, update_company_settings


class InMemorySettings:
    def __init__(self) -> None:
        self.document: dict[str, Any] = {}
        self.version = 0

    def load(self) -> tuple[dict[str, Any], int]:
        return dict(self.document), self.version

    def save(self, document: Mapping[str, Any], expected_version: int) -> int:
        if expected_version != self.version:
            raise ConflictError()
        self.document, self.version = dict(document), self.version + 1
        return self.version


def test_defaults_when_nothing_was_saved():
    settings = load_company_settings(InMemorySettings())
    assert settings.locale.timezone == "America/Sao_Paulo" and settings.brand.primary_colour == "#0B5CAD"


def test_a_partial_update_keeps_the_rest():
    store = InMemorySettings()
    update_company_settings(store, {"locale": {"timezone": "Europe/Madrid", "default_currency": "EUR"}})
    settings = load_company_settings(store)
    assert settings.locale.timezone == "Europe/Madrid" and settings.locale.default_language == "pt-BR"


def test_invalid_values_are_refused_with_their_fields_and_nothing_saved():
    store = InMemorySettings()
    with pytest.raises(InvalidInputError) as refused:
        update_company_settings(store, {"contact": {"support_email": "nope"}, "unknown": {}})
    assert {p.field for p in refused.value.fields} == {"contact.support_email", "unknown"}
    assert store.version == 0


def test_a_concurrent_save_wins_and_the_other_gets_a_conflict():
    store = InMemorySettings()

    class Racing(InMemorySettings):
        def load(self):
            loaded = store.load()
            store.save({"brand": {"name": "Other"}}, store.version)  # someone saves in between
            return loaded

        def save(self, document, expected_version):
            return store.save(document, expected_version)

    with pytest.raises(ConflictError):
        update_company_settings(Racing(), {"brand": {"name": "Mine"}})


def test_deep_merge_replaces_scalars_and_lists_and_merges_objects():
    assert deep_merge({"a": {"b": 1, "c": [1]}, "d": 1}, {"a": {"c": [2]}, "d": None}) == {
        "a": {"b": 1, "c": [2]},
        "d": None,
    }

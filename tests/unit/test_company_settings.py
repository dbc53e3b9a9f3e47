"""Company settings: defaults, partial updates, validation and concurrent saves (with an in-memory store)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from balcao.domain.errors import ConflictError, InvalidInputError
from balcao.services.company_settings import deep_merge, load_company_settings
from balcao.services.company_settings_document import CompanySettings, update_company_settings


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


def test_a_request_reads_each_section_as_the_whole_document_validates_it():
    # Given a saved document with a section of every kind changed
    store = InMemorySettings()
    update_company_settings(
        store,
        {"brand": {"name": "Hospeda Já"}, "invoices": {"renewal_lead_days": 10}, "tickets": {"auto_close_days": 3}},
    )
    whole = CompanySettings.model_validate(store.document)
    # When a request reads it section by section
    view = load_company_settings(store)
    # Then each section is the one the whole document holds, defaults included
    for section in CompanySettings.model_fields:
        assert getattr(view, section) == getattr(whole, section), section
    assert view.invoices.renewal_lead_days == 10 and view.brand.name == "Hospeda Já"


VIEW_IMPORTS = """
import sys
from balcao.services.company_settings import CompanySettingsView
view = CompanySettingsView({"brand": {"name": "Hospeda Já"}})
view.brand.name, view.contact.support_email, view.tickets.departments
before = sorted(m for m in ("balcao.services.invoice_settings", "balcao.services.dunning_settings",
    "balcao.services.payment_settings", "balcao.services.service_settings") if m in sys.modules)
view.invoices.renewal_lead_days
print(before, "balcao.services.invoice_settings" in sys.modules)
"""


def test_a_function_that_reads_the_brand_imports_no_capability_policy():
    import subprocess
    import sys

    # Given a fresh interpreter, as a cold start, reading the brand, the contacts and the ticket departments
    answer = subprocess.run([sys.executable, "-c", VIEW_IMPORTS], capture_output=True, text=True, check=True)
    # Then no capability's policy module was imported; reading the invoice policy imports its module then
    assert answer.stdout.split() == ["[]", "True"]


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

"""The ``tickets`` section of the company settings: departments in three languages, auto-close, callbacks."""

from __future__ import annotations

from typing import Any

import pytest

from balcao.domain.errors import InvalidInputError
from balcao.services.company_settings_document import CompanySettings, update_company_settings


class MemorySettings:
    def __init__(self) -> None:
        self.document: dict[str, Any] = {}
        self.version = 0

    def load(self) -> tuple[dict[str, Any], int]:
        return self.document, self.version

    def save(self, document: Any, expected_version: int) -> int:
        self.document, self.version = dict(document), expected_version + 1
        return self.version


def department(code: str, **changes: Any) -> dict[str, Any]:
    texts = {"pt-BR": "Jurídico", "es": "Jurídico", "en": "Legal"}
    return {"code": code, "name": texts, "description": texts, **changes}


def test_the_defaults_are_the_three_departments_of_seed_003_and_seven_days():
    # Given no stored settings, then the three departments, a 7-day auto-close and callbacks to technical support
    tickets = CompanySettings().tickets
    assert [d.code for d in tickets.departments] == ["technical_support", "billing", "sales"]
    assert tickets.auto_close_days == 7 and tickets.callback_department == "technical_support"
    assert tickets.department("billing").name["es"] == "Facturación"


def test_staff_replace_the_departments_and_turn_auto_close_off():
    # Given the stored settings
    store = MemorySettings()
    # When staff set their own departments, a notification address and no auto-close
    updated = update_company_settings(
        store,
        {
            "tickets": {
                "departments": [department("legal", notification_email="juridico@balcao.example")],
                "auto_close_days": None,
                "callback_department": "legal",
            }
        },
    )
    # Then they apply and survive a reload
    assert [d.code for d in updated.tickets.departments] == ["legal"] and updated.tickets.auto_close_days is None
    reloaded = CompanySettings.model_validate(store.document).tickets
    assert reloaded.department("legal").notification_email == "juridico@balcao.example"


@pytest.mark.parametrize(
    ("patch", "field"),
    [
        ({"departments": [department("legal"), department("legal")]}, "tickets.departments"),
        ({"departments": [department("legal", name={"pt-BR": "Jurídico"})]}, "tickets.departments.0.name"),
        ({"departments": [department("Legal!")]}, "tickets.departments.0.code"),
        ({"callback_department": "legal"}, "tickets.callback_department"),
        ({"auto_close_days": 0}, "tickets.auto_close_days"),
    ],
)
def test_inconsistent_ticket_settings_are_refused(patch, field):
    # Given a patch with a duplicate code, a missing language, a bad code, an unknown callback department or 0 days
    # When it is applied, then the field is named and nothing is saved
    store = MemorySettings()
    with pytest.raises(InvalidInputError) as refused:
        update_company_settings(store, {"tickets": patch})
    assert field in [f.field for f in refused.value.fields] and store.version == 0

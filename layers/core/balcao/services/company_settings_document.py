"""The whole company settings document, every capability's section: what staff read and save
(``GET``/``PATCH /api/staff/settings``). Requests read it section by section through
``balcao.services.company_settings.CompanySettingsView``.

``PATCH`` merges a partial document into the current one, validates the whole, and saves it only if nobody saved in
between.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from balcao.domain.errors import InvalidInputError, problems_from_validation
from balcao.services.company_settings import (
    BrandSettings,
    ContactSettings,
    IdentitySettings,
    LocaleSettings,
    RateLimitSettings,
    RetentionSettings,
    Section,
    TicketSettings,
    deep_merge,
)
from balcao.services.dunning_settings import DunningSettings
from balcao.services.invoice_settings import InvoiceSettings
from balcao.services.payment_settings import PaymentSettings
from balcao.services.ports import SettingsStore
from balcao.services.service_settings import ServiceSettings


class CompanySettings(Section):
    brand: BrandSettings = BrandSettings()
    locale: LocaleSettings = LocaleSettings()
    contact: ContactSettings = ContactSettings()
    rate_limits: RateLimitSettings = RateLimitSettings()
    identity: IdentitySettings = IdentitySettings()
    retention: RetentionSettings = RetentionSettings()
    # invoices
    invoices: InvoiceSettings = InvoiceSettings()
    # tickets
    tickets: TicketSettings = TicketSettings()
    # dunning
    dunning: DunningSettings = DunningSettings()
    # services
    services: ServiceSettings = ServiceSettings()
    # payments
    payments: PaymentSettings = PaymentSettings()


def load_company_document(store: SettingsStore) -> CompanySettings:
    document, _ = store.load()
    return CompanySettings.model_validate(document)


def update_company_settings(store: SettingsStore, patch: Mapping[str, Any]) -> CompanySettings:
    """Apply a partial document; 422 with the offending fields, 409 when a concurrent save won."""
    document, version = store.load()
    current = CompanySettings.model_validate(document).model_dump(mode="json")
    candidate = deep_merge(current, patch)
    try:
        validated = CompanySettings.model_validate(candidate)
    except ValidationError as error:
        raise InvalidInputError(problems_from_validation(list(error.errors()))) from None  # type: ignore[arg-type]
    store.save(validated.model_dump(mode="json"), version)
    return validated

"""Given-steps for services: products written through the catalog use-case, orders placed and paid through the
use-cases, a panel without latency, and the calls of the services function."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from balcao.adapters.provisioning.simulated import SimulatedProvisioner, reset_simulated_panel
from balcao.domain.catalog import Price, Product, ProductType, ProvisioningModule, SupportLevel
from balcao.domain.cycles import BillingCycle
from balcao.domain.money import Money
from balcao.runtime import services_composition
from balcao.runtime.invoices_composition import invoices
from balcao.services.services import OrderLineInput
from support.events import api_event, json_body
from support.identity import Caller

ACCOUNT = "/api/accounts/{account_id}"
SERVICES = f"{ACCOUNT}/services"
SERVICE = f"{SERVICES}/{{service_id}}"


def names(pt: str, es: str | None = None, en: str | None = None) -> dict[str, str]:
    return {"pt-BR": pt, "es": es or pt, "en": en or pt}


def prices(*rows: tuple[str, int, str, int]) -> tuple[Price, ...]:
    """(cycle, price, currency, setup fee) rows."""
    return tuple(
        Price(BillingCycle(cycle), Money.of(price, currency), Money.of(fee, currency))
        for cycle, price, currency, fee in rows
    )


SUPPORT = (
    SupportLevel(
        "standard",
        names("Padrão", "Estándar", "Standard"),
        prices(("monthly", 0, "BRL", 0), ("annual", 0, "BRL", 0), ("monthly", 0, "EUR", 0)),
    ),
    SupportLevel(
        "premium",
        names("Premium"),
        prices(("monthly", 1990, "BRL", 0), ("annual", 19900, "BRL", 0), ("monthly", 500, "EUR", 0)),
    ),
)


def basic_plan(**changes: Any) -> Product:
    return Product(
        product_id="",
        name=names("Hospedagem Básica", "Alojamiento Básico", "Basic Hosting"),
        description=names("1 site, 10 GB"),
        product_type=ProductType.SHARED_HOSTING,
        prices=prices(("monthly", 4990, "BRL", 0), ("annual", 49900, "BRL", 0), ("monthly", 1290, "EUR", 0)),
        support_levels=SUPPORT,
        module=ProvisioningModule.CPANEL,
        package="basic",
        **changes,
    )


def pro_plan(**changes: Any) -> Product:
    return Product(
        product_id="",
        name=names("Hospedagem Profissional", "Alojamiento Profesional", "Professional Hosting"),
        product_type=ProductType.SHARED_HOSTING,
        prices=prices(("monthly", 9990, "BRL", 0), ("annual", 99900, "BRL", 0), ("monthly", 2490, "EUR", 0)),
        support_levels=SUPPORT,
        module=ProvisioningModule.CPANEL,
        package="pro",
        **changes,
    )


@dataclass
class Catalog:
    basic: Product
    pro: Product


def given_catalog(**basic_changes: Any) -> Catalog:
    catalog = services_composition.catalog()
    return Catalog(catalog.create(basic_plan(**basic_changes)), catalog.create(pro_plan(position=1)))


def quiet_panel() -> SimulatedProvisioner:
    """The simulated panel without its 20 ms latency (tests never sleep), empty."""
    reset_simulated_panel()
    panel = SimulatedProvisioner(latency_seconds=0, sso_base_url="http://127.0.0.1:8000")
    services_composition.install_panel(panel)
    return panel


def given_order(account_id: str, product: Product, domain: str, cycle: str = "monthly", support: str | None = None):
    return services_composition.services().place_order(
        account_id, [OrderLineInput(product.product_id, BillingCycle(cycle), domain, support)], "user-test"
    )


def pay_in_full(account_id: str, invoice_id: str, reference: str | None = None) -> None:
    service = invoices()
    invoice = service.invoice(account_id, invoice_id)
    service.record_payment(invoice_id, invoice.amount_due, None, reference)


def call(invoke, method: str, template: str, caller: Caller, body: Any = None, query=None, headers=None, **values):
    concrete = template.format(**values)
    event = api_event(
        method, concrete, resource=template, body=body, claims=caller.claims, query=query, headers=headers
    )
    response = invoke("services", event)
    return response, json_body(response) if response.get("body") else None

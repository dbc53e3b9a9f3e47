"""The catalog: products with their billing cycles, prices and setup fees per currency, the support levels a
customer chooses per service (an add-on with its own price per cycle), the control-panel package, visibility and
stock.

Names and descriptions are kept in every language the portal speaks (pt-BR, es, en); a product is offered in a
currency only for the cycles that have a price in it. Prices are net of tax, in minor units.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from balcao.domain.cycles import BillingCycle
from balcao.domain.errors import N_, ConflictError, FieldProblem, InvalidInputError
from balcao.domain.money import Currency, Money

LANGUAGES = ("pt-BR", "es", "en")


class ProductType(StrEnum):
    SHARED_HOSTING = "shared_hosting"
    RESELLER = "reseller"
    VPS = "vps"
    SSL = "ssl"
    OTHER = "other"


class ProvisioningModule(StrEnum):
    """Which control panel creates the service: cPanel/WHM, or none (provisioned by hand, e.g. an SSL certificate)."""

    CPANEL = "cpanel"
    NONE = "none"


class ProductNotAvailableError(InvalidInputError):
    """The product does not exist, is hidden, or has no price in the account's currency."""


class CycleNotOfferedError(InvalidInputError):
    """The product has no price for that billing cycle in the account's currency."""


class SupportLevelNotOfferedError(InvalidInputError):
    """The product has no such support level, or none with a price for that cycle and currency."""


class DomainInvalidError(InvalidInputError):
    """A hosting product needs a valid domain name."""


class OutOfStockError(ConflictError):
    default_message = N_("This product is out of stock.")


def localized(texts: Mapping[str, str], language: str) -> str:
    """The text in ``language``, else in English, else any."""
    return texts.get(language) or texts.get("en") or next(iter(texts.values()), "")


@dataclass(frozen=True, slots=True)
class Price:
    cycle: BillingCycle
    price: Money
    setup_fee: Money


@dataclass(frozen=True, slots=True)
class SupportLevel:
    code: str
    name: Mapping[str, str]
    prices: tuple[Price, ...] = ()

    def price_for(self, cycle: BillingCycle, currency: Currency) -> Money | None:
        found = next((p for p in self.prices if p.cycle is cycle and p.price.currency is currency), None)
        return found.price if found is not None else None


@dataclass(frozen=True, slots=True)
class Product:
    product_id: str
    name: Mapping[str, str]
    product_type: ProductType
    prices: tuple[Price, ...]
    description: Mapping[str, str] = field(default_factory=dict)
    support_levels: tuple[SupportLevel, ...] = ()
    module: ProvisioningModule = ProvisioningModule.NONE
    package: str | None = None
    visible: bool = True
    stock: int | None = None  # None: unlimited
    tax_category: str | None = "hosting"
    position: int = 0
    revision: int | None = None

    def name_in(self, language: str) -> str:
        return localized(self.name, language)

    @property
    def needs_domain(self) -> bool:
        """A control-panel account or an SSL certificate is made for a domain."""
        return self.module is ProvisioningModule.CPANEL or self.product_type in (
            ProductType.SHARED_HOSTING,
            ProductType.RESELLER,
            ProductType.SSL,
        )

    def offered_in(self, currency: Currency) -> tuple[Price, ...]:
        return tuple(p for p in self.prices if p.price.currency is currency)

    def price_for(self, cycle: BillingCycle, currency: Currency, field_name: str = "cycle") -> Price:
        found = next((p for p in self.prices if p.cycle is cycle and p.price.currency is currency), None)
        if found is None:
            raise CycleNotOfferedError.single(
                field_name, N_("This product is not offered in that billing cycle."), "invalid_choice"
            )
        return found

    def support_for(
        self, code: str | None, cycle: BillingCycle, currency: Currency, field_name: str = "support_level"
    ) -> tuple[SupportLevel | None, Money]:
        """The chosen support level and its price; none chosen → the product's first level (or none at all)."""
        if not self.support_levels:
            if code:
                raise SupportLevelNotOfferedError.single(
                    field_name, N_("This product has no such support level."), "invalid_choice"
                )
            return None, Money.zero(currency)
        level = self.support_levels[0] if not code else next((s for s in self.support_levels if s.code == code), None)
        price = level.price_for(cycle, currency) if level is not None else None
        if level is None or price is None:
            raise SupportLevelNotOfferedError.single(
                field_name, N_("This product has no such support level."), "invalid_choice"
            )
        return level, price


def available(product: Product | None, currency: Currency, field_name: str = "product_id") -> Product:
    """A product a customer may order in ``currency`` (it exists, is visible and has a price in it)."""
    if product is None or not product.visible or not product.offered_in(currency):
        raise ProductNotAvailableError.single(field_name, N_("This product is not available."), "invalid_choice")
    return product


_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


def normalise_domain(text: str | None, field_name: str = "domain") -> str:
    """A domain name in lower case, checked label by label (``www.`` is not part of a hosting's domain)."""
    domain = (text or "").strip().lower().rstrip(".")
    domain = domain.removeprefix("www.")
    try:
        domain = domain.encode("idna").decode("ascii")
    except UnicodeError:
        domain = ""
    labels = domain.split(".")
    if (
        len(domain) > 253
        or len(labels) < 2
        or not all(_LABEL.match(label) for label in labels)
        or not re.match(r"^(xn--[a-z0-9-]+|[a-z]{2,63})$", labels[-1])
    ):
        raise DomainInvalidError(
            [FieldProblem(field_name, "invalid", N_("Enter a valid domain name, such as example.com."))]
        )
    return domain

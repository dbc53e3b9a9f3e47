"""The catalog: what customers may order (``/api/catalog/products``) and what staff manage (``/api/staff/products``).

Products live in one partition, so the whole catalog is one query; the store keeps it for a few seconds per
container (orders, quotes and pages read it often, staff change it rarely).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any, Protocol

from balcao.domain.catalog import Product, ProvisioningModule
from balcao.domain.errors import N_, InvalidInputError, NotFoundError
from balcao.domain.ids import new_ulid
from balcao.domain.money import Currency


class ProductPackageRequiredError(InvalidInputError):
    """A product created on cPanel needs the WHM package its accounts get."""


class DuplicatePriceError(InvalidInputError):
    """Two prices for the same cycle and currency."""


class CatalogStore(Protocol):
    def products(self) -> list[Product]:
        """Every product, ordered by position then name (one query; may be a few seconds old)."""
        ...

    def product(self, product_id: str) -> Product | None:
        """One product, read now (for staff changes)."""
        ...

    def save(self, product: Product) -> Product:
        """Create (``revision`` None) or replace a product (condition: the revision read)."""
        ...


def check_product(product: Product) -> None:
    if product.module is ProvisioningModule.CPANEL and not product.package:
        raise ProductPackageRequiredError.single("package", N_("A cPanel product needs the WHM package name."))
    seen: set[tuple[str, str]] = set()
    for index, price in enumerate(product.prices):
        key = (price.cycle.value, price.price.currency.value)
        if key in seen or price.setup_fee.currency is not price.price.currency:
            raise DuplicatePriceError.single(
                f"prices.{index}", N_("Give one price per billing cycle and currency, with its setup fee.")
            )
        seen.add(key)
    codes = [level.code for level in product.support_levels]
    if len(set(codes)) != len(codes):
        raise DuplicatePriceError.single("support_levels", N_("Each support level needs its own code."))


@dataclass
class Catalog:
    store: CatalogStore

    def offered(self, currency: Currency | None) -> list[Product]:
        """What a customer may order: visible products (in ``currency``: those with a price in it)."""
        products = [p for p in self.store.products() if p.visible]
        if currency is None:
            return products
        return [p for p in products if p.offered_in(currency)]

    def everything(self) -> list[Product]:
        return self.store.products()

    def create(self, product: Product) -> Product:
        check_product(product)
        return self.store.save(replace(product, product_id=new_ulid(), revision=None))

    def update(self, product_id: str, changes: Callable[[Product], Mapping[str, Any]]) -> Product:
        """Change a product (``changes`` names the fields and their new values); an order that took stock since it
        was read makes the save fail with a conflict rather than overwrite the stock."""
        current = self.store.product(product_id)
        if current is None:
            raise NotFoundError()
        updated = replace(current, **changes(current))
        check_product(updated)
        return self.store.save(updated)

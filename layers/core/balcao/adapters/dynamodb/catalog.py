"""The catalog's products (``CATALOG`` / ``PRODUCT#{id}``): one query lists them all, kept 30 seconds per container
(orders, quotes and pages read the catalog on every request; staff change it rarely)."""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from typing import Any

from balcao.adapters.dynamodb import keys
from balcao.adapters.dynamodb.models import ProductItem
from balcao.domain.catalog import Price, Product, ProductType, ProvisioningModule, SupportLevel
from balcao.domain.cycles import BillingCycle
from balcao.domain.errors import ConflictError
from balcao.domain.money import Currency, Money

CACHE_SECONDS = 30.0


class ProductChangedError(ConflictError):
    """The product changed since it was read (an order took stock, or another staff change)."""


def _price_json(price: Price) -> dict[str, Any]:
    return {
        "cycle": price.cycle.value,
        "currency": price.price.currency.value,
        "price": price.price.amount,
        "setup_fee": price.setup_fee.amount,
    }


def _price_from(data: Mapping[str, Any]) -> Price:
    currency = Currency(data["currency"])
    return Price(
        BillingCycle(data["cycle"]),
        Money(int(data["price"]), currency),
        Money(int(data.get("setup_fee") or 0), currency),
    )


def product_item(product: Product) -> ProductItem:
    return ProductItem(
        pk=keys.catalog_pk(),
        sk=keys.product_sk(product.product_id),
        product_id=product.product_id,
        name=dict(product.name),
        description=dict(product.description),
        product_type=product.product_type.value,
        prices=[_price_json(p) for p in product.prices],
        support_levels=[
            {"code": s.code, "name": dict(s.name), "prices": [_price_json(p) for p in s.prices]}
            for s in product.support_levels
        ],
        module=product.module.value,
        package=product.package,
        visible=product.visible,
        stock=product.stock,
        tax_category=product.tax_category,
        position=product.position,
        revision=(product.revision or 0) + 1,
    )


def product_from_item(item: ProductItem) -> Product:
    return Product(
        product_id=item.product_id,
        name=dict(item.name or {}),
        description=dict(item.description or {}),
        product_type=ProductType(item.product_type),
        prices=tuple(_price_from(p) for p in item.prices or []),
        support_levels=tuple(
            SupportLevel(
                str(s["code"]), dict(s.get("name") or {}), tuple(_price_from(p) for p in s.get("prices") or [])
            )
            for s in item.support_levels or []
        ),
        module=ProvisioningModule(item.module),
        package=item.package,
        visible=item.visible is not False,
        stock=int(item.stock) if item.stock is not None else None,
        tax_category=item.tax_category,
        position=int(item.position or 0),
        revision=int(item.revision) if item.revision is not None else None,
    )


class DynamoCatalogStore:
    def __init__(self, cache_seconds: float = CACHE_SECONDS) -> None:
        self._cache_seconds = cache_seconds
        self._lock = threading.Lock()
        self._cached: tuple[float, list[Product]] | None = None

    def forget(self) -> None:
        with self._lock:
            self._cached = None

    def products(self) -> list[Product]:
        with self._lock:
            cached = self._cached
        if cached is not None and time.monotonic() - cached[0] < self._cache_seconds:
            return list(cached[1])
        found = [
            product_from_item(item)
            for item in ProductItem.query(keys.catalog_pk(), ProductItem.sk.startswith(keys.PRODUCT_PREFIX))
            if isinstance(item, ProductItem)
        ]
        found.sort(key=lambda p: (p.position, p.name_in("en").lower(), p.product_id))
        with self._lock:
            self._cached = (time.monotonic(), found)
        return list(found)

    def product(self, product_id: str) -> Product | None:
        try:
            item = ProductItem.get(keys.catalog_pk(), keys.product_sk(product_id), consistent_read=True)
        except ProductItem.DoesNotExist:
            return None
        return product_from_item(item)

    def save(self, product: Product) -> Product:
        condition = (
            ProductItem.pk.does_not_exist() if product.revision is None else ProductItem.revision == product.revision
        )
        item = product_item(product)
        from pynamodb.exceptions import PutError

        try:
            item.save(condition=condition)
        except PutError as error:
            if error.cause_response_code == "ConditionalCheckFailedException":
                raise ProductChangedError() from None
            raise
        self.forget()
        return product_from_item(item)

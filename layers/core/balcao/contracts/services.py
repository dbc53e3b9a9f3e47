"""Request and response bodies of the catalog, orders, services, plan changes, cancellations and the staff's service
and product routes (API.md: catalog, services, orders, staff)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import Field

from balcao.contracts import Contract
from balcao.contracts.identity import Body, Timestamped
from balcao.contracts.invoices import BillingMoney, BillingMoneyIn
from balcao.domain.catalog import Price, Product, ProductType, ProvisioningModule, SupportLevel, localized
from balcao.domain.cycles import BillingCycle
from balcao.domain.money import Currency, Money
from balcao.domain.services import Order, ProvisioningRequest, Service
from balcao.services.services import ChangeQuote, LiveStatus

CycleKey = Literal["monthly", "quarterly", "semiannual", "annual", "biennial"]
ProductTypeKey = Literal["shared_hosting", "reseller", "vps", "ssl", "other"]
ModuleKey = Literal["cpanel", "none"]
MethodKey = Literal["card", "pix", "boleto", "sepa", "credit"]
ReasonKey = Literal["overdue", "abuse", "customer_request", "staff", "unpaid_order"]
CurrencyKey = Literal["BRL", "EUR"]
CODE = Field(min_length=1, max_length=40, pattern=r"^[a-z][a-z0-9_-]*$")
ID_TEXT = Field(min_length=1, max_length=64)


# --- the catalog -----------------------------------------------------------------------------------------------------
class PriceOut(Contract):
    cycle: str
    price: BillingMoney
    setup_fee: BillingMoney

    @classmethod
    def of(cls, price: Price) -> PriceOut:
        return cls(
            cycle=price.cycle.value, price=BillingMoney.of(price.price), setup_fee=BillingMoney.of(price.setup_fee)
        )


class SupportLevelOut(Contract):
    code: str
    name: str
    prices: list[PriceOut]

    @classmethod
    def of(cls, level: SupportLevel, language: str, currency: Currency | None) -> SupportLevelOut:
        prices = [p for p in level.prices if currency is None or p.price.currency is currency]
        return cls(code=level.code, name=localized(level.name, language), prices=[PriceOut.of(p) for p in prices])


class ProductOut(Contract):
    product_id: str
    name: str
    description: str
    type: str
    prices: list[PriceOut]
    support_levels: list[SupportLevelOut]
    needs_domain: bool

    @classmethod
    def of(cls, product: Product, language: str, currency: Currency | None) -> ProductOut:
        prices = [p for p in product.prices if currency is None or p.price.currency is currency]
        return cls(
            product_id=product.product_id,
            name=product.name_in(language),
            description=localized(product.description, language) if product.description else "",
            type=product.product_type.value,
            prices=[PriceOut.of(p) for p in prices],
            support_levels=[SupportLevelOut.of(s, language, currency) for s in product.support_levels],
            needs_domain=product.needs_domain,
        )


class ProductList(Contract):
    items: list[ProductOut]
    next: str | None = None


# --- staff products --------------------------------------------------------------------------------------------------
class Texts(Body):
    pt_BR: str = Field(alias="pt-BR", min_length=1, max_length=300)
    es: str = Field(min_length=1, max_length=300)
    en: str = Field(min_length=1, max_length=300)

    def as_dict(self) -> dict[str, str]:
        return {"pt-BR": self.pt_BR, "es": self.es, "en": self.en}


class LongTexts(Body):
    pt_BR: str = Field(default="", alias="pt-BR", max_length=2000)
    es: str = Field(default="", max_length=2000)
    en: str = Field(default="", max_length=2000)

    def as_dict(self) -> dict[str, str]:
        return {k: v for k, v in {"pt-BR": self.pt_BR, "es": self.es, "en": self.en}.items() if v}


class PriceIn(Body):
    cycle: CycleKey
    price: BillingMoneyIn
    setup_fee: BillingMoneyIn | None = None

    def domain(self) -> Price:
        price = self.price.money()
        fee = self.setup_fee.money() if self.setup_fee else Money.zero(price.currency)
        return Price(BillingCycle(self.cycle), price, fee)


class SupportLevelIn(Body):
    code: str = CODE
    name: Texts
    prices: list[PriceIn] = Field(min_length=1, max_length=20)

    def domain(self) -> SupportLevel:
        return SupportLevel(self.code, self.name.as_dict(), tuple(p.domain() for p in self.prices))


class ProductIn(Body):
    name: Texts
    description: LongTexts | None = None
    type: ProductTypeKey
    prices: list[PriceIn] = Field(min_length=1, max_length=20)
    support_levels: list[SupportLevelIn] = Field(default_factory=list, max_length=10)
    module: ModuleKey = "none"
    package: str | None = Field(default=None, max_length=100)
    visible: bool = True
    stock: int | None = Field(default=None, ge=0, le=1_000_000)
    tax_category: str | None = Field(default="hosting", max_length=40)
    position: int = Field(default=0, ge=0, le=10_000)

    def domain(self, product_id: str = "") -> Product:
        return Product(
            product_id=product_id,
            name=self.name.as_dict(),
            description=self.description.as_dict() if self.description else {},
            product_type=ProductType(self.type),
            prices=tuple(p.domain() for p in self.prices),
            support_levels=tuple(s.domain() for s in self.support_levels),
            module=ProvisioningModule(self.module),
            package=self.package or None,
            visible=self.visible,
            stock=self.stock,
            tax_category=self.tax_category,
            position=self.position,
        )


class ProductPatch(Body):
    """Only what is sent changes (prices and support levels are replaced as a whole)."""

    name: Texts | None = None
    description: LongTexts | None = None
    prices: list[PriceIn] | None = Field(default=None, min_length=1, max_length=20)
    support_levels: list[SupportLevelIn] | None = Field(default=None, max_length=10)
    package: str | None = Field(default=None, max_length=100)
    visible: bool | None = None
    stock: int | None = Field(default=None, ge=0, le=1_000_000)
    unlimited_stock: bool = False
    position: int | None = Field(default=None, ge=0, le=10_000)


class StaffProductOut(Contract):
    product_id: str
    name: dict[str, str]
    description: dict[str, str]
    type: str
    prices: list[PriceOut]
    support_levels: list[dict[str, object]]
    module: str
    package: str | None
    visible: bool
    stock: int | None
    tax_category: str | None
    position: int

    @classmethod
    def of(cls, product: Product) -> StaffProductOut:
        return cls(
            product_id=product.product_id,
            name=dict(product.name),
            description=dict(product.description),
            type=product.product_type.value,
            prices=[PriceOut.of(p) for p in product.prices],
            support_levels=[
                {
                    "code": s.code,
                    "name": dict(s.name),
                    "prices": [PriceOut.of(p).model_dump() for p in s.prices],
                }
                for s in product.support_levels
            ],
            module=product.module.value,
            package=product.package,
            visible=product.visible,
            stock=product.stock,
            tax_category=product.tax_category,
            position=product.position,
        )


class StaffProductList(Contract):
    items: list[StaffProductOut]
    next: str | None = None


# --- orders -----------------------------------------------------------------------------------------------------------
class OrderItemIn(Body):
    product_id: str = ID_TEXT
    cycle: CycleKey
    domain: str | None = Field(default=None, max_length=253)
    support_level: str | None = Field(default=None, max_length=40)


class OrderIn(Body):
    items: list[OrderItemIn] = Field(min_length=1, max_length=10)
    payment_method: MethodKey | None = None


class OrderOut(Contract):
    order_id: str
    invoice_id: str | None
    service_ids: list[str]
    status: str
    amount_due: BillingMoney

    @classmethod
    def of(cls, order: Order, amount_due: Money) -> OrderOut:
        return cls(
            order_id=order.order_id,
            invoice_id=order.invoice_id,
            service_ids=list(order.service_ids),
            status=order.status.value,
            amount_due=BillingMoney.of(amount_due),
        )


# --- services ---------------------------------------------------------------------------------------------------------
class SupportOut(Contract):
    code: str
    name: str | None
    price: BillingMoney | None


class CancellationOut(Timestamped):
    type: str
    reason: str
    effective_date: date
    requested_at: datetime


class ProvisioningOut(Timestamped):
    action: str
    state: str
    updated_at: datetime


class LiveOut(Timestamped):
    state: str
    checked_at: datetime | None
    stale: bool
    disk_used_mb: int | None = None
    disk_limit_mb: int | None = None

    @classmethod
    def of(cls, live: LiveStatus) -> LiveOut:
        return cls(
            state=live.state,
            checked_at=live.checked_at,
            stale=live.stale,
            disk_used_mb=live.disk_used_mb,
            disk_limit_mb=live.disk_limit_mb,
        )


class ServiceOut(Timestamped):
    """A service; a technical delegate sees its technical side only (no price, cycle, due date or orders)."""

    service_id: str
    name: str
    domain: str | None
    status: str
    reason: str | None
    product_id: str | None
    type: str | None
    cycle: str | None
    price: BillingMoney | None
    support_level: SupportOut | None
    next_due_date: date | None
    auto_renew: bool | None
    created_at: datetime | None
    status_changed_at: datetime | None
    username: str | None
    server: str | None
    cancellation: CancellationOut | None
    provisioning: ProvisioningOut | None
    pending_order_id: str | None
    live: LiveOut | None = None

    @classmethod
    def of(cls, service: Service, *, billing: bool = True, live: LiveStatus | None = None) -> ServiceOut:
        support = None
        if service.support_level:
            price = service.support_price if billing and service.support_price is not None else None
            support = SupportOut(
                code=service.support_level,
                name=service.support_name,
                price=BillingMoney.of(price) if price is not None else None,
            )
        cancellation = service.cancellation
        provisioning = service.provisioning
        return cls(
            service_id=service.service_id,
            name=service.name,
            domain=service.domain,
            status=service.status.value,
            reason=service.reason.value if service.reason else None,
            product_id=service.product_id,
            type=service.product_type,
            cycle=service.cycle.value if billing and service.cycle else None,
            price=BillingMoney.of(service.price) if billing and service.price is not None else None,
            support_level=support,
            next_due_date=service.next_due_date if billing else None,
            auto_renew=service.auto_renew if billing else None,
            created_at=service.created_at,
            status_changed_at=service.changed_at,
            username=service.username,
            server=service.server,
            cancellation=CancellationOut(
                type=cancellation.type.value,
                reason=cancellation.reason,
                effective_date=cancellation.effective_date,
                requested_at=cancellation.requested_at,
            )
            if cancellation is not None and billing
            else None,
            provisioning=ProvisioningOut(
                action=provisioning.action.value, state=provisioning.state.value, updated_at=provisioning.updated_at
            )
            if provisioning is not None
            else None,
            pending_order_id=service.pending_order_id if billing else None,
            live=LiveOut.of(live) if live is not None else None,
        )


class ServiceList(Contract):
    items: list[ServiceOut]
    next: str | None


class SsoOut(Contract):
    url: str


class ServicePasswordIn(Body):
    password: str = Field(max_length=256)


class UpgradeIn(Body):
    product_id: str = ID_TEXT
    cycle: CycleKey
    support_level: str | None = Field(default=None, max_length=40)
    confirm: bool = False


class QuoteOut(Contract):
    credit: BillingMoney
    debit: BillingMoney
    next_period_adjustment: BillingMoney
    amount_due: BillingMoney
    next_due_date: date
    days_left: int
    days_in_current_period: int
    days_in_new_period: int

    @classmethod
    def of(cls, quoted: ChangeQuote) -> QuoteOut:
        quote = quoted.quote
        return cls(
            credit=BillingMoney.of(quote.credit),
            debit=BillingMoney.of(quote.debit),
            next_period_adjustment=BillingMoney.of(quote.next_period_adjustment),
            amount_due=BillingMoney.of(quote.amount_due),
            next_due_date=quoted.next_due_date,
            days_left=quote.days_left,
            days_in_current_period=quote.days_in_current_period,
            days_in_new_period=quote.days_in_new_period,
        )


class UpgradeOrderOut(Contract):
    """``amount_due`` below zero: a downgrade, applied at once, the difference credited to the account."""

    order_id: str
    invoice_id: str | None
    amount_due: BillingMoney
    status: str


class CancellationIn(Body):
    type: Literal["immediate", "end_of_period"]
    reason: str = Field(min_length=1, max_length=1000)


# --- staff ------------------------------------------------------------------------------------------------------------
class ServiceActionIn(Body):
    reason: ReasonKey = "staff"
    note: str | None = Field(default=None, max_length=1000)


class ProvisioningRequestOut(Timestamped):
    request_id: str
    account_id: str
    service_id: str
    action: str
    state: str
    attempts: int
    error: str | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, request: ProvisioningRequest) -> ProvisioningRequestOut:
        return cls(
            request_id=request.request_id,
            account_id=request.account_id,
            service_id=request.service_id,
            action=request.action.value,
            state=request.state.value,
            attempts=request.attempts,
            error=request.error,
            created_at=request.created_at,
            updated_at=request.updated_at,
        )


class ProvisioningFailureList(Contract):
    items: list[ProvisioningRequestOut]
    next: str | None


class StaffServiceList(Contract):
    items: list[ServiceOut]
    next: str | None

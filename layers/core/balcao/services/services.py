"""Services: orders, the lifecycle, plan changes, cancellation requests, the customer's views and what payments and
dunning ask of a service.

Every change is one ``ServiceChange`` the store commits as one TransactWrite: the services (condition: the revision
read), the orders, the provisioning requests, the domain claims, the stock taken, credit for a downgrade and the
domain events (outbox). A lost race is retried from a fresh read. The control panel is never called inside a
change: a change that needs it writes a provisioning request and ``service.provisioning_requested``, which the
provisioning function carries out from its queue (see ``balcao.services.provisioning``). Only single sign-on, the
live status and a password change call the panel directly, because the customer waits for them and nothing of them
may be stored.

What other capabilities call (each idempotent, safe to call again with the same arguments):

- ``unsuspend_after_payment(account_id, service_ids, actor)`` — payments and dunning, once an invoice is paid:
  lifts the suspensions for ``overdue`` of those services (and only those: abuse or staff suspensions stay), with
  the "Service reactivated" email. ``suspended_for_overdue(account_id, service_ids)`` and
  ``unsuspend(account_id, service_id)`` are the same for one service at a time (the payments capability's
  ``OverdueServices`` port).
- ``suspend_for_overdue(invoice, actor)`` — dunning: suspends the active services on an overdue invoice, reason
  ``overdue`` (event ``service.suspended_for_overdue``: no email of ours, dunning sends its notice).
- ``terminate_for_non_payment(invoice, actor)`` — dunning: terminates the (active or suspended) services on an
  invoice still unpaid at the termination step, reason ``overdue`` (event ``service.terminated_for_non_payment``).
- ``services_of_invoice(invoice)`` — the service ids an invoice bills (its lines').

Pages (the portal) and routes (the API) call these use-cases directly; authorization happened before.
"""

from __future__ import annotations

import logging
import random
import re
import time
from collections.abc import Callable, Iterable, Iterator, MutableMapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Protocol, TypeVar

from balcao.domain.calendar import local_date
from balcao.domain.catalog import (
    Product,
    ProvisioningModule,
    available,
    localized,
    normalise_domain,
)
from balcao.domain.credit import CreditEntry, CreditKind
from balcao.domain.cycles import BillingCycle, period_start
from balcao.domain.errors import N_, BalcaoError, FieldProblem, InvalidInputError, NotFoundError
from balcao.domain.events import DomainEvent, new_event
from balcao.domain.ids import new_ulid
from balcao.domain.invoice_document import PaymentMethod
from balcao.domain.invoices import Buyer, Invoice, InvoiceKind, InvoiceLine, InvoiceStatus
from balcao.domain.money import Currency, Money
from balcao.domain.passwords import check_password
from balcao.domain.proration import ChangeNotPossibleError, Quote, prorate, quote_change
from balcao.domain.provisioning import AccountStatus, ProvisioningError
from balcao.domain.renewals import period_from
from balcao.domain.service_lifecycle import (
    FINAL,
    IllegalTransitionError,
    ServiceReason,
    ServiceStatus,
    StatusChange,
    lifts_on_payment,
)
from balcao.domain.services import (
    Cancellation,
    CancellationRequestedError,
    CancellationType,
    ChangePendingError,
    LiveSnapshot,
    NoCancellationRequestError,
    Order,
    OrderKind,
    OrderStatus,
    PaidPeriod,
    PlanChange,
    ProvisioningAction,
    ProvisioningRequest,
    ProvisioningState,
    RenewalPaymentInFlightError,
    Service,
    ServiceChangedError,
    ServiceNotActiveError,
    ServiceNotProvisionedError,
)
from balcao.services.catalog import CatalogStore
from balcao.services.invoices import Invoices
from balcao.services.ports import Clock, Provisioner
from balcao.services.service_settings import ServiceSettings

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
T = TypeVar("T")

CYCLE_LABELS: dict[str, str] = {
    "monthly": N_("Monthly"),
    "quarterly": N_("Quarterly"),
    "semiannual": N_("Every six months"),
    "annual": N_("Yearly"),
    "biennial": N_("Every two years"),
}

# Which status event each transition emits (the emails of the lifecycle).
STATUS_EVENTS: dict[ServiceStatus, str] = {
    ServiceStatus.ACTIVE: "service.activated",
    ServiceStatus.SUSPENDED: "service.suspended",
    ServiceStatus.CANCELLED: "service.cancelled",
    ServiceStatus.TERMINATED: "service.terminated",
}

# What the control panel must do when a service reaches a status (cPanel products only).
PANEL_ACTIONS: dict[ServiceStatus, ProvisioningAction] = {
    ServiceStatus.SUSPENDED: ProvisioningAction.SUSPEND,
    ServiceStatus.CANCELLED: ProvisioningAction.TERMINATE,
    ServiceStatus.TERMINATED: ProvisioningAction.TERMINATE,
}


class PaymentMethodNotForCurrencyError(InvalidInputError):
    """PIX and boleto pay only in reais; SEPA Direct Debit only in euros."""


class EmptyOrderError(InvalidInputError):
    pass


# --- the store ------------------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class ServiceWrite:
    after: Service
    before: Service | None  # None: new (its revision is the write's condition)


@dataclass(frozen=True, slots=True)
class OrderWrite:
    after: Order
    before: Order | None


@dataclass(frozen=True, slots=True)
class RequestWrite:
    after: ProvisioningRequest
    before: ProvisioningRequest | None


@dataclass(frozen=True, slots=True)
class DomainClaim:
    domain: str
    account_id: str
    service_id: str


@dataclass
class ServiceChange:
    services: list[ServiceWrite] = field(default_factory=list)
    orders: list[OrderWrite] = field(default_factory=list)
    requests: list[RequestWrite] = field(default_factory=list)
    claims: list[DomainClaim] = field(default_factory=list)
    releases: list[str] = field(default_factory=list)  # domains no longer hosted
    stock: list[tuple[str, int]] = field(default_factory=list)  # (product id, quantity taken)
    credit: list[CreditEntry] = field(default_factory=list)
    events: list[DomainEvent] = field(default_factory=list)

    def service(self, after: Service, before: Service | None) -> None:
        """Add (or replace) the write of a service in this change."""
        for index, write in enumerate(self.services):
            if write.after.service_id == after.service_id:
                self.services[index] = ServiceWrite(after, write.before)
                return
        self.services.append(ServiceWrite(after, before))


class ServiceStore(Protocol):
    def service(self, account_id: str, service_id: str) -> Service | None: ...

    def service_with_buyer(self, account_id: str, service_id: str) -> tuple[Service | None, Buyer | None]:
        """A service and its account's buyer snapshot, in one read."""
        ...

    def locate(self, service_id: str) -> str | None:
        """The account of a service (for staff routes addressed by the service alone)."""
        ...

    def services(self, account_id: str, limit: int, cursor: str | None) -> tuple[list[Service], str | None]: ...

    def order(self, account_id: str, order_id: str) -> Order | None: ...

    def order_of_invoice(self, invoice_id: str) -> tuple[str, str] | None:
        """(account id, order id) of the order an invoice pays."""
        ...

    def pending_orders(self, kind: OrderKind, due_before: date) -> Iterator[Order]: ...

    def cancellations_due(self, day: date) -> Iterator[Service]: ...

    def renewal_invoice_id(self, service_id: str, period_start: date) -> str | None:
        """The renewal invoice issued for the service's period starting on ``period_start`` (its guard)."""
        ...

    def point_renewal(self, service_id: str, period_start: date, account_id: str, invoice_id: str) -> None:
        """The renewal guard of that period now names a re-issued invoice."""
        ...

    def request(self, account_id: str, request_id: str) -> ProvisioningRequest | None: ...

    def failed_requests(self, limit: int, cursor: str | None) -> tuple[list[ProvisioningRequest], str | None]: ...

    def commit(self, change: ServiceChange) -> None: ...


class PanelStatus(Protocol):
    """The control panel's view of one account, answered within a short timeout."""

    def status(self, username: str) -> AccountStatus: ...


# --- inputs and outcomes --------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class OrderLineInput:
    product_id: str
    cycle: BillingCycle
    domain: str | None = None
    support_level: str | None = None


@dataclass(frozen=True, slots=True)
class PlacedOrder:
    order: Order
    invoice: Invoice
    services: list[Service]


@dataclass(frozen=True, slots=True)
class ChangeQuote:
    quote: Quote
    change: PlanChange
    next_due_date: date
    renewal_to_reissue: Invoice | None = None

    @property
    def amount_due(self) -> Money:
        return self.change.amount_due


@dataclass(frozen=True, slots=True)
class ConfirmedChange:
    order: Order
    invoice: Invoice | None
    amount_due: Money  # negative: credited to the account (a downgrade)


@dataclass(frozen=True, slots=True)
class LiveStatus:
    state: str  # active, suspended, missing, unknown
    checked_at: datetime | None
    stale: bool  # the panel did not answer in time: the last known state
    disk_used_mb: int | None = None
    disk_limit_mb: int | None = None


def services_of_invoice(invoice: Invoice) -> list[str]:
    """The services an invoice bills, in line order, each once."""
    found: list[str] = []
    for line in invoice.lines:
        if line.service_id is not None and line.service_id not in found:
            found.append(line.service_id)
    return found


_USERNAME_LETTERS = re.compile(r"[^a-z0-9]")


def panel_username(domain: str, service_id: str) -> str:
    """A cPanel username for ``domain``: up to 8 letters and digits of its first label, then 4 of the service id
    (cPanel: at most 16, lower case, starting with a letter, never with ``test``)."""
    stem = _USERNAME_LETTERS.sub("", domain.split(".", maxsplit=1)[0].lower())[:8]
    if not stem or not stem[0].isalpha() or stem.startswith("test"):
        stem = ("u" + stem)[:8]
    return f"{stem}{service_id[-4:].lower()}"


def _pause(attempt: int) -> None:
    """Jittered back-off between attempts after a lost race (not business time)."""
    time.sleep(random.uniform(0, 0.004 * (attempt + 1)))  # noqa: S311 - jitter, not a secret


def _date_text(language: str, day: date) -> str:
    return day.isoformat() if language == "en" else day.strftime("%d/%m/%Y")


def _method_problem(method: PaymentMethod, currency: Currency) -> str | None:
    if method in (PaymentMethod.PIX, PaymentMethod.BOLETO) and currency is not Currency.BRL:
        return N_("PIX and boleto are only available for invoices in reais.")
    if method is PaymentMethod.SEPA and currency is not Currency.EUR:
        return N_("SEPA Direct Debit is only available for invoices in euros.")
    return None


@dataclass
class Services:
    store: ServiceStore
    catalog: CatalogStore
    invoices: Invoices
    clock: Clock
    settings: ServiceSettings
    panel: Provisioner
    panel_status: PanelStatus
    live_cache: MutableMapping[str, LiveSnapshot] = field(default_factory=dict)

    # --- time and reading ---------------------------------------------------------------------------------------
    def today(self) -> date:
        return local_date(self.clock.now(), self.invoices.timezone)

    def _translate(self, language: str, message: str) -> str:
        return self.invoices.translate(language, message)

    def service(self, account_id: str, service_id: str) -> Service:
        found = self.store.service(account_id, service_id)
        if found is None:
            raise NotFoundError()
        return found

    def service_and_currency(self, account_id: str, service_id: str) -> tuple[Service, Currency]:
        """A service and the currency a change of its plan is priced in (its plan's, else the account's): one read."""
        service, buyer = self.store.service_with_buyer(account_id, service_id)
        if service is None or buyer is None:
            raise NotFoundError()
        if service.plan_price is not None:
            return service, service.plan_price.currency
        return service, buyer.currency or Currency(self.invoices.default_currency)

    def staff_service(self, service_id: str) -> Service:
        account_id = self.store.locate(service_id)
        if account_id is None:
            raise NotFoundError()
        return self.service(account_id, service_id)

    def page(self, account_id: str, limit: int, cursor: str | None) -> tuple[list[Service], str | None]:
        return self.store.services(account_id, limit, cursor)

    def order(self, account_id: str, order_id: str) -> Order:
        found = self.store.order(account_id, order_id)
        if found is None:
            raise NotFoundError()
        return found

    def products(self) -> dict[str, Product]:
        return {p.product_id: p for p in self.catalog.products()}

    def _buyer(self, account_id: str) -> Buyer:
        buyer = self.invoices.store.buyer(account_id)
        if buyer is None:
            raise NotFoundError()
        return buyer

    # --- the live status, single sign-on, the panel password -----------------------------------------------------
    def live_status(self, service: Service) -> LiveStatus | None:
        """The control panel's state of the account: a fresh answer is reused for a while; when the panel does not
        answer in time, the last known state (``stale``). None for a service the panel does not have."""
        if not service.is_provisioned or service.username is None:
            return None
        now = self.clock.now()
        cached = self.live_cache.get(service.service_id)
        max_age = timedelta(seconds=self.settings.live_status_cache_seconds)
        if cached is not None and now - cached.checked_at <= max_age:
            return LiveStatus(cached.state, cached.checked_at, False, cached.disk_used_mb, cached.disk_limit_mb)
        try:
            answer = self.panel_status.status(service.username)
        except ProvisioningError:
            logger.warning("live status unavailable", extra={"service_id": service.service_id})
            known = cached or service.live
            if known is None:
                return LiveStatus("unknown", None, True)
            return LiveStatus(known.state, known.checked_at, True, known.disk_used_mb, known.disk_limit_mb)
        snapshot = LiveSnapshot(
            answer.state.value, now, answer.disk_used_mb, answer.disk_limit_mb, answer.bandwidth_used_mb
        )
        self.live_cache[service.service_id] = snapshot
        return LiveStatus(snapshot.state, now, False, snapshot.disk_used_mb, snapshot.disk_limit_mb)

    def _on_panel(self, account_id: str, service_id: str) -> Service:
        service = self.service(account_id, service_id)
        if service.status is not ServiceStatus.ACTIVE:
            raise ServiceNotActiveError()
        if not service.is_provisioned:
            raise ServiceNotProvisionedError()
        return service

    def sso_url(self, account_id: str, service_id: str) -> str:
        """A short-lived cPanel session URL: never logged, traced or stored (the caller answers it and forgets it)."""
        service = self._on_panel(account_id, service_id)
        assert service.username is not None
        return self.panel.sso_url(service.username)

    def change_password(self, account_id: str, service_id: str, password: str) -> None:
        """The cPanel account's password (the policy of API.md), set on the panel at once and kept nowhere."""
        check_password(password, "password")
        service = self._on_panel(account_id, service_id)
        assert service.username is not None
        self.panel.change_password(service.username, password)

    # --- orders ----------------------------------------------------------------------------------------------------
    def place_order(
        self,
        account_id: str,
        lines: Sequence[OrderLineInput],
        actor: str,
        payment_method: PaymentMethod | None = None,
    ) -> PlacedOrder:
        """New services (``pending``), their order and one invoice of kind ``order``. The services start today:
        that is their anchor day and the start of their first period, which the invoice's lines bill."""
        if not lines:
            raise EmptyOrderError.single("items", N_("Choose at least one product."), "required")
        buyer = self._buyer(account_id)
        currency = buyer.currency or Currency(self.invoices.default_currency)
        if payment_method is not None:
            problem = _method_problem(payment_method, currency)
            if problem is not None:
                raise PaymentMethodNotForCurrencyError.single("payment_method", problem, "invalid_choice")
        language = buyer.language
        now, today = self.clock.now(), self.today()
        order_id = new_ulid()
        products = self.products()
        services: list[Service] = []
        invoice_lines: list[InvoiceLine] = []
        change = ServiceChange()
        taken: dict[str, int] = {}
        domains: set[str] = set()
        for index, line in enumerate(lines):
            service, billed = self._new_service(
                index, line, products, currency, language, account_id, order_id, actor, now, today
            )
            if service.domain:
                if service.domain in domains:
                    raise InvalidInputError.single(
                        f"items.{index}.domain", N_("This domain is in the order twice."), "invalid"
                    )
                domains.add(service.domain)
                change.claims.append(DomainClaim(service.domain, account_id, service.service_id))
            product = products[line.product_id]
            if product.stock is not None:
                taken[product.product_id] = taken.get(product.product_id, 0) + 1
            services.append(service)
            invoice_lines.extend(billed)
            change.services.append(ServiceWrite(service, None))
        change.stock.extend(taken.items())
        due = today + timedelta(days=self.settings.unpaid_order_days)
        draft = self.invoices.draft_for(account_id, InvoiceKind.ORDER, invoice_lines, buyer, due)
        order = Order(
            order_id=order_id,
            account_id=account_id,
            kind=OrderKind.NEW,
            status=OrderStatus.PENDING,
            service_ids=tuple(s.service_id for s in services),
            amount_due=draft.total,
            due_date=due,
            created_at=now,
            status_at=now,
            invoice_id=draft.invoice_id,
        )
        change.orders.append(OrderWrite(order, None))
        change.events.append(self._order_event("order.placed", order, actor=actor))
        self.store.commit(change)
        try:
            invoice = self.invoices.issue_new(draft, buyer=buyer)
        except Exception:
            logger.exception("order invoice not issued", extra={"order_id": order_id})
            self._abandon(order, actor)
            raise
        if payment_method is not None and invoice.is_unpaid:
            invoice = self.invoices.choose_payment_method(account_id, invoice.invoice_id, payment_method)
        return PlacedOrder(order, invoice, services)

    def _new_service(
        self,
        index: int,
        line: OrderLineInput,
        products: dict[str, Product],
        currency: Currency,
        language: str,
        account_id: str,
        order_id: str,
        actor: str,
        now: datetime,
        today: date,
    ) -> tuple[Service, list[InvoiceLine]]:
        prefix = f"items.{index}"
        product = available(products.get(line.product_id), currency, f"{prefix}.product_id")
        price = product.price_for(line.cycle, currency, f"{prefix}.cycle")
        level, support_price = product.support_for(line.support_level, line.cycle, currency, f"{prefix}.support_level")
        domain: str | None = None
        if product.needs_domain or line.domain:
            domain = normalise_domain(line.domain, f"{prefix}.domain")
        service_id = new_ulid()
        cpanel = product.module is ProvisioningModule.CPANEL
        service = Service(
            service_id=service_id,
            account_id=account_id,
            name=product.name_in(language),
            status=ServiceStatus.PENDING,
            created_at=now,
            domain=domain,
            order_id=order_id,
            product_id=product.product_id,
            product_type=product.product_type.value,
            cycle=line.cycle,
            plan_price=price.price,
            support_level=level.code if level else None,
            support_name=localized(level.name, language) if level else None,
            support_price=support_price,
            tax_category=product.tax_category,
            next_due_date=today,
            anchor_day=today.day,
            module=product.module.value,
            package=product.package,
            username=panel_username(domain, service_id) if cpanel and domain else None,
            history=(StatusChange(ServiceStatus.PENDING, None, actor, now),),
        )
        period = period_from(today, line.cycle, today.day)
        billed = [
            InvoiceLine(
                description=self._line_text(language, service, line.cycle),
                quantity=1,
                unit_price=service.price or price.price,
                tax_category=product.tax_category,
                service_id=service_id,
                period_start=period.start,
                period_end=period.end,
            )
        ]
        if not price.setup_fee.is_zero:
            text = self._translate(language, N_("Setup fee: {product}")).format(product=service.name)
            billed.append(InvoiceLine(text, 1, price.setup_fee, product.tax_category, service_id=service_id))
        return service, billed

    def _line_text(self, language: str, service: Service, cycle: BillingCycle) -> str:
        text = f"{service.name} — {service.domain}" if service.domain else service.name
        if service.support_name:
            support = self._translate(language, N_("support: {level}")).format(level=service.support_name)
            text = f"{text} ({support})"
        return f"{text} · {self._translate(language, CYCLE_LABELS[cycle.value])}"

    def _abandon(self, order: Order, actor: str) -> None:
        """An order whose invoice could not be issued: it and its services are cancelled at once."""
        try:
            self._retrying(lambda: self._cancel_order(order.account_id, order.order_id, actor, announce=False))
        except Exception:
            logger.exception("abandoned order not cancelled", extra={"order_id": order.order_id})

    def _cancel_order(self, account_id: str, order_id: str, actor: str, *, announce: bool = True) -> str:
        """Cancel a pending order: its pending services are cancelled (``unpaid_order``), a plan change is dropped."""
        order = self.order(account_id, order_id)
        if order.status is not OrderStatus.PENDING:
            return "already"
        now = self.clock.now()
        change = ServiceChange()
        for service_id in order.service_ids:
            service = self.store.service(account_id, service_id)
            if service is None:
                continue
            if order.kind is OrderKind.NEW and service.status is ServiceStatus.PENDING:
                self._move(service, ServiceStatus.CANCELLED, ServiceReason.UNPAID_ORDER, actor, change, announce)
            elif order.kind is OrderKind.CHANGE and service.pending_order_id == order_id:
                change.service(replace(service, pending_order_id=None), service)
        cancelled = order.settled(OrderStatus.CANCELLED, now)
        change.orders.append(OrderWrite(cancelled, order))
        if announce:
            change.events.append(self._order_event("order.cancelled", cancelled, actor=actor))
        self.store.commit(change)
        return "cancelled"

    # --- the lifecycle ------------------------------------------------------------------------------------------------
    def _move(
        self,
        service: Service,
        wanted: ServiceStatus,
        reason: ServiceReason | None,
        actor: str,
        change: ServiceChange,
        announce: bool = True,
        contact_email: str | None = None,
        event_type: str | None = None,
    ) -> Service:
        """One lifecycle transition inside ``change``: the history, the panel action it needs, its event
        (``event_type`` overrides the status's own, which sends the customer an email)."""
        before = next((w.before for w in change.services if w.after.service_id == service.service_id), service)
        after, _ = service.moved_to(wanted, reason, actor, self.clock.now())
        action = PANEL_ACTIONS.get(wanted)
        if wanted is ServiceStatus.ACTIVE:
            action = ProvisioningAction.UNSUSPEND if service.status is ServiceStatus.SUSPENDED else None
            if service.status is ServiceStatus.PENDING:
                action = ProvisioningAction.CREATE
        if wanted in FINAL:
            after = replace(after, cancellation=service.cancellation if wanted is ServiceStatus.CANCELLED else None)
            if service.domain:
                change.releases.append(service.domain)
        if action is not None and service.module == ProvisioningModule.CPANEL.value:
            needs_panel = service.is_provisioned or action is ProvisioningAction.CREATE or self._creating(service)
            if needs_panel:
                after = self._request(after, action, change, reason=reason, contact_email=contact_email)
        change.service(after, before)
        if announce:
            lifted = service.status is ServiceStatus.SUSPENDED and wanted is ServiceStatus.ACTIVE
            event = event_type or ("service.unsuspended" if lifted else STATUS_EVENTS[wanted])
            change.events.append(self._service_event(event, after, actor=actor, previous=service.status.value))
        return after

    @staticmethod
    def _creating(service: Service) -> bool:
        """The panel account's creation was asked and has not finished (a later action must follow it)."""
        state = service.provisioning
        return (
            state is not None
            and state.action is ProvisioningAction.CREATE
            and state.state in (ProvisioningState.QUEUED, ProvisioningState.FAILED)
        )

    def _request(
        self,
        service: Service,
        action: ProvisioningAction,
        change: ServiceChange,
        *,
        reason: ServiceReason | None = None,
        contact_email: str | None = None,
    ) -> Service:
        now = self.clock.now()
        request = ProvisioningRequest(
            request_id=new_ulid(),
            account_id=service.account_id,
            service_id=service.service_id,
            action=action,
            state=ProvisioningState.QUEUED,
            created_at=now,
            updated_at=now,
            reason=reason.value if reason else None,
            contact_email=contact_email,
        )
        change.requests.append(RequestWrite(request, None))
        change.events.append(
            new_event(
                "service.provisioning_requested",
                now,
                account_id=service.account_id,
                service_id=service.service_id,
                request_id=request.request_id,
                action=action.value,
            )
        )
        return replace(service, provisioning=request.status())

    def _transition(
        self,
        account_id: str,
        service_id: str,
        wanted: ServiceStatus,
        reason: ServiceReason | None,
        actor: str,
        *,
        only_if: Callable[[Service], bool] | None = None,
        event_type: str | None = None,
    ) -> Service | None:
        """Move one service (retried after a lost race); ``only_if`` False: nothing to do (None)."""

        def attempt() -> Service | None:
            service = self.store.service(account_id, service_id)
            if service is None and only_if is not None:
                return None
            if service is None:
                raise NotFoundError()
            if only_if is not None and not only_if(service):
                return None
            change = ServiceChange()
            email = self._buyer(account_id).email if service.status is ServiceStatus.PENDING else None
            after = self._move(service, wanted, reason, actor, change, contact_email=email, event_type=event_type)
            self.store.commit(change)
            return after

        return self._retrying(attempt)

    # --- staff actions ------------------------------------------------------------------------------------------------
    def staff_action(self, service_id: str, action: str, reason: ServiceReason, actor: str) -> Service:
        """``activate`` (pending → active, the panel account created), ``suspend``, ``unsuspend``, ``terminate``."""
        account_id = self.store.locate(service_id)
        if account_id is None:
            raise NotFoundError()
        wanted = {
            "activate": ServiceStatus.ACTIVE,
            "suspend": ServiceStatus.SUSPENDED,
            "unsuspend": ServiceStatus.ACTIVE,
            "terminate": ServiceStatus.TERMINATED,
        }[action]
        service = self.service(account_id, service_id)
        if (action == "activate" and service.status is not ServiceStatus.PENDING) or (
            action == "unsuspend" and service.status is not ServiceStatus.SUSPENDED
        ):
            raise IllegalTransitionError(service.status, wanted)
        moved = self._transition(account_id, service_id, wanted, reason, actor)
        assert moved is not None
        return moved

    # --- payments and dunning -----------------------------------------------------------------------------------------
    def unsuspend_after_payment(
        self, account_id: str, service_ids: Iterable[str], actor: str = "system:payments"
    ) -> list[str]:
        """Lift the ``overdue`` suspensions of these services (the WHMCS rule: abuse and staff suspensions stay).
        Idempotent; returns the services unsuspended now."""
        lifted: list[str] = []
        for service_id in service_ids:
            moved = self._transition(
                account_id,
                service_id,
                ServiceStatus.ACTIVE,
                None,
                actor,
                only_if=lambda s: lifts_on_payment(s.status, s.reason),
            )
            if moved is not None:
                lifted.append(service_id)
        return lifted

    def suspended_for_overdue(self, account_id: str, service_ids: Sequence[str]) -> list[str]:
        """Which of these services are suspended for ``overdue`` (what a payment may lift)."""
        found = [self.store.service(account_id, service_id) for service_id in service_ids]
        return [s.service_id for s in found if s is not None and lifts_on_payment(s.status, s.reason)]

    def unsuspend(self, account_id: str, service_id: str) -> None:
        """Lift one service's ``overdue`` suspension (nothing else): ``unsuspend_after_payment`` for one service."""
        self.unsuspend_after_payment(account_id, [service_id])

    def suspend_for_overdue(self, invoice: Invoice, actor: str = "system:dunning") -> list[str]:
        """Suspend the active services an overdue invoice bills (reason ``overdue``). Idempotent. The event is
        ``service.suspended_for_overdue``, which sends no email: dunning's own notice tells the customer."""
        suspended: list[str] = []
        for service_id in services_of_invoice(invoice):
            moved = self._transition(
                invoice.account_id,
                service_id,
                ServiceStatus.SUSPENDED,
                ServiceReason.OVERDUE,
                actor,
                only_if=lambda s: s.status is ServiceStatus.ACTIVE,
                event_type="service.suspended_for_overdue",
            )
            if moved is not None:
                suspended.append(service_id)
        return suspended

    def terminate_for_non_payment(self, invoice: Invoice, actor: str = "system:dunning") -> list[str]:
        """Terminate the active or suspended services an invoice still unpaid bills (reason ``overdue``). The event
        is ``service.terminated_for_non_payment``, which sends no email: dunning's own notice tells the customer."""
        terminated: list[str] = []
        for service_id in services_of_invoice(invoice):
            moved = self._transition(
                invoice.account_id,
                service_id,
                ServiceStatus.TERMINATED,
                ServiceReason.OVERDUE,
                actor,
                only_if=lambda s: s.status in (ServiceStatus.ACTIVE, ServiceStatus.SUSPENDED),
                event_type="service.terminated_for_non_payment",
            )
            if moved is not None:
                terminated.append(service_id)
        return terminated

    # --- invoice.paid and invoice.cancelled -----------------------------------------------------------------------
    def on_invoice_paid(self, account_id: str, invoice_id: str) -> dict[str, int]:
        """What a paid invoice does to services: an order is accepted (its services active, the panel accounts
        created), a plan change applied, a renewal's period remembered as paid. Lifting overdue suspensions is the
        payments capability's (and dunning's) call: they know whether another overdue invoice still holds it."""
        counts = {"accepted": 0, "changed": 0, "periods": 0}
        invoice = self.invoices.invoice(account_id, invoice_id, include_drafts=True)
        if invoice.status is not InvoiceStatus.PAID:
            return counts
        if invoice.kind in (InvoiceKind.ORDER, InvoiceKind.UPGRADE):
            located = self.store.order_of_invoice(invoice_id)
            if located is not None:
                outcome = self._retrying(lambda: self._accept(located[0], located[1], invoice))
                counts["accepted" if invoice.kind is InvoiceKind.ORDER else "changed"] += outcome == "accepted"
        else:
            for service_id in services_of_invoice(invoice):
                counts["periods"] += self._retrying(self._remembering(invoice, service_id))
        return counts

    def on_invoice_cancelled(self, account_id: str, invoice_id: str) -> str:
        """An order or plan change whose invoice was cancelled (a credit note, the unpaid jobs) is cancelled too."""
        located = self.store.order_of_invoice(invoice_id)
        if located is None:
            return "none"
        return self._retrying(lambda: self._cancel_order(located[0], located[1], "system:invoices"))

    def _paid_periods(self, invoice: Invoice, service_id: str) -> list[PaidPeriod]:
        return [
            PaidPeriod(line.period_start, line.period_end + timedelta(days=1), line.net)
            for line in invoice.lines
            if line.service_id == service_id and line.period_start is not None and line.period_end is not None
        ]

    def _remembering(self, invoice: Invoice, service_id: str) -> Callable[[], int]:
        """Remember what a paid renewal paid for the service's periods (what a later plan change credits)."""

        def attempt() -> int:
            service = self.store.service(invoice.account_id, service_id)
            periods = self._paid_periods(invoice, service_id)
            if service is None or not periods:
                return 0
            after = service
            for period in periods:
                after = after.with_paid_period(period)
            if after == service:
                return 0
            self.store.commit(ServiceChange(services=[ServiceWrite(after, service)]))
            return len(periods)

        return attempt

    def _accept(self, account_id: str, order_id: str, invoice: Invoice) -> str:
        order = self.order(account_id, order_id)
        if order.status is not OrderStatus.PENDING:
            return "already"
        now = self.clock.now()
        change = ServiceChange()
        if order.kind is OrderKind.CHANGE:
            assert order.change is not None
            service = self.service(account_id, order.change.service_id)
            if service.pending_order_id == order_id and service.status not in FINAL:
                self._apply_change(service, order.change, change, "system:orders")
        else:
            email = self._buyer(account_id).email
            for service_id in order.service_ids:
                ordered = self.store.service(account_id, service_id)
                if ordered is None:
                    continue
                paid = ordered
                for period in self._paid_periods(invoice, service_id):
                    paid = paid.with_paid_period(period)
                if ordered.status is ServiceStatus.PENDING:
                    self._move(paid, ServiceStatus.ACTIVE, None, "system:orders", change, contact_email=email)
                elif paid != ordered:
                    change.service(paid, ordered)
        change.orders.append(OrderWrite(order.settled(OrderStatus.ACCEPTED, now), order))
        change.events.append(self._order_event("order.accepted", order, actor="system:orders"))
        self.store.commit(change)
        return "accepted"

    # --- plan changes -------------------------------------------------------------------------------------------------
    def quote(
        self, account_id: str, service_id: str, product_id: str, cycle: BillingCycle, support_level: str | None
    ) -> ChangeQuote:
        """An upgrade or downgrade quote (``balcao.domain.proration``): today in the company's timezone, the credit
        of what was paid for the current period, the debit of the new plan to the same due date, and — when the
        next period's renewal is paid already — that whole period at the new price minus what was paid for it."""
        service = self.service(account_id, service_id)
        if service.status is not ServiceStatus.ACTIVE:
            raise ServiceNotActiveError()
        if service.cancellation is not None:
            raise CancellationRequestedError()
        if service.pending_order_id is not None:
            raise ChangePendingError()
        assert service.plan_price is not None and service.next_due_date is not None and service.cycle is not None
        currency = service.plan_price.currency
        product = available(self.products().get(product_id), currency)
        price = product.price_for(cycle, currency)
        level, support_price = product.support_for(support_level, cycle, currency)
        level_code = level.code if level else None
        if product.product_id == service.product_id and cycle is service.cycle and level_code == service.support_level:
            raise ChangeNotPossibleError(N_("This is the service's current plan."))
        new_price = price.price + support_price
        today = self.today()
        current, prepaid = service.proration_periods(today)
        next_period_price: Money | None = None
        if prepaid is not None:
            days = (prepaid.end - current.end).days
            length = (prepaid.end - period_start(prepaid.end, cycle, service.anchor_day)).days
            next_period_price = prorate(new_price, days, length)
        quoted = quote_change(current, today, new_price, cycle, prepaid, next_period_price, service.anchor_day)
        language = self._buyer(account_id).language
        change = PlanChange(
            service_id=service_id,
            product_id=product.product_id,
            product_name=product.name_in(language),
            product_type=product.product_type.value,
            cycle=cycle,
            plan_price=price.price,
            support_level=level_code,
            support_name=localized(level.name, language) if level else None,
            support_price=support_price,
            module=product.module.value,
            package=product.package,
            tax_category=product.tax_category,
            credit=quoted.credit,
            debit=quoted.debit,
            next_period_adjustment=quoted.next_period_adjustment,
            quoted_on=today,
            current_end=current.end,
            prepaid_end=prepaid.end if prepaid else None,
            prepaid_paid=next_period_price if prepaid else None,
        )
        return ChangeQuote(quoted, change, service.next_due_date, self._unpaid_renewal(service))

    def _unpaid_renewal(self, service: Service) -> Invoice | None:
        """The next period's renewal invoice when it is issued and unpaid (a confirmed change re-issues it)."""
        assert service.next_due_date is not None
        invoice_id = self.store.renewal_invoice_id(service.service_id, service.next_due_date)
        if invoice_id is None:
            return None
        invoice = self.invoices.store.invoice(service.account_id, invoice_id)
        if invoice is None or not invoice.is_unpaid:
            return None
        if invoice.status is not InvoiceStatus.ISSUED or not invoice.amount_paid.is_zero:
            raise RenewalPaymentInFlightError()
        return invoice

    def confirm_change(
        self,
        account_id: str,
        service_id: str,
        product_id: str,
        cycle: BillingCycle,
        support_level: str | None,
        actor: str,
    ) -> ConfirmedChange:
        """The plan change ordered: an upgrade gets an order and an invoice of kind ``upgrade``, applied when paid; a
        downgrade (nothing to pay) is applied at once and what it leaves over goes to the credit balance. The next
        period's unpaid renewal is cancelled and issued again at the new price."""
        quoted = self.quote(account_id, service_id, product_id, cycle, support_level)
        plan = quoted.change
        now, today = self.clock.now(), self.today()
        due = today + timedelta(days=self.settings.unpaid_change_days)
        amount = plan.amount_due
        order = Order(
            order_id=new_ulid(),
            account_id=account_id,
            kind=OrderKind.CHANGE,
            status=OrderStatus.PENDING,
            service_ids=(service_id,),
            amount_due=amount if not amount.is_negative else Money.zero(amount.currency),
            due_date=due,
            created_at=now,
            status_at=now,
            change=plan,
        )
        invoice: Invoice | None = None
        if amount.amount > 0:
            buyer = self._buyer(account_id)
            service = self.service(account_id, service_id)
            draft = self.invoices.draft_for(
                account_id, InvoiceKind.UPGRADE, self._change_lines(buyer.language, service, plan), buyer, due
            )
            order = replace(order, invoice_id=draft.invoice_id)
            change = ServiceChange()
            change.service(replace(service, pending_order_id=order.order_id), service)
            change.orders.append(OrderWrite(order, None))
            change.events.append(self._order_event("order.placed", order, actor=actor))
            self.store.commit(change)
            try:
                invoice = self.invoices.issue_new(draft, buyer=buyer)
            except Exception:
                self._abandon(order, actor)
                raise
        else:
            order = replace(order, status=OrderStatus.ACCEPTED)

            def apply_now() -> None:
                service = self.service(account_id, service_id)
                change = ServiceChange()
                self._apply_change(service, plan, change, actor)
                change.orders.append(OrderWrite(order, None))
                self.store.commit(change)

            self._retrying(apply_now)
        if quoted.renewal_to_reissue is not None:
            self._reissue_renewal(quoted.renewal_to_reissue, self.service(account_id, service_id), plan)
        return ConfirmedChange(order, invoice, amount)

    def _change_lines(self, language: str, service: Service, plan: PlanChange) -> list[InvoiceLine]:
        start, end = _date_text(language, plan.quoted_on), _date_text(language, plan.current_end - timedelta(days=1))
        text = self._translate(language, N_("Plan change of {service}: {old} → {new}, {start} to {end}")).format(
            service=service.domain or service.name, old=service.name, new=plan.product_name, start=start, end=end
        )
        current = plan.debit - plan.credit
        adjustment = plan.next_period_adjustment
        if current.is_negative or adjustment.is_negative or adjustment.is_zero:
            return [InvoiceLine(text, 1, plan.amount_due, plan.tax_category, service_id=service.service_id)]
        assert plan.prepaid_end is not None
        following = self._translate(language, N_("{new}, the prepaid period {start} to {end}")).format(
            new=plan.product_name,
            start=_date_text(language, plan.current_end),
            end=_date_text(language, plan.prepaid_end - timedelta(days=1)),
        )
        return [
            InvoiceLine(text, 1, current, plan.tax_category, service_id=service.service_id),
            InvoiceLine(following, 1, adjustment, plan.tax_category, service_id=service.service_id),
        ]

    def _apply_change(self, service: Service, plan: PlanChange, change: ServiceChange, actor: str) -> Service:
        """The service moves to the new plan: the current period restarts on the quote's day, paid with the debit
        (the prepaid next period counts as paid at the new price); the panel's package changes; a downgrade's
        remainder is credited. The next due date does not move."""
        after = replace(
            service,
            product_id=plan.product_id,
            name=plan.product_name,
            product_type=plan.product_type,
            cycle=plan.cycle,
            plan_price=plan.plan_price,
            support_level=plan.support_level,
            support_name=plan.support_name,
            support_price=plan.support_price,
            tax_category=plan.tax_category,
            module=plan.module,
            package=plan.package,
            pending_order_id=None,
        ).with_paid_period(PaidPeriod(plan.quoted_on, plan.current_end, plan.debit))
        if plan.prepaid_end is not None and plan.prepaid_paid is not None:
            after = after.with_paid_period(PaidPeriod(plan.current_end, plan.prepaid_end, plan.prepaid_paid))
        package_changed = plan.package is not None and plan.package != service.package
        if package_changed and plan.module == ProvisioningModule.CPANEL.value and service.is_provisioned:
            after = self._request(after, ProvisioningAction.CHANGE_PACKAGE, change)
        change.service(after, service)
        remainder = plan.amount_due
        if remainder.is_negative:
            self._credit(service.account_id, -remainder, f"{service.name} → {plan.product_name}", change)
        change.events.append(
            self._service_event(
                "service.plan_changed",
                after,
                actor=actor,
                previous_name=service.name,
                cycle=plan.cycle.value,
                price=(after.price or plan.price).to_json(),
                credited=(-remainder).to_json() if remainder.is_negative else None,
            )
        )
        return after

    def _credit(self, account_id: str, amount: Money, note: str, change: ServiceChange) -> None:
        """A downgrade's remainder to the credit balance, announced with the balance it leaves."""
        entry = CreditEntry(new_ulid(), account_id, CreditKind.DOWNGRADE, amount, self.clock.now(), note=note)
        current = self.invoices.store.credit(account_id)
        known = current.balance if current is not None and current.balance is not None else None
        balance = known + amount if known is not None and known.currency is amount.currency else amount
        change.credit.append(entry)
        change.events.append(
            new_event(
                "credit.added",
                entry.at,
                account_id=account_id,
                entry_id=entry.entry_id,
                kind=entry.kind.value,
                amount=amount.to_json(),
                balance=balance.to_json(),
                invoice_id=None,
            )
        )

    def _reissue_renewal(self, old: Invoice, service: Service, plan: PlanChange) -> Invoice:
        """Cancel an unpaid renewal (a credit note when numbered) and issue it again at the new plan's price."""
        assert service.next_due_date is not None
        self.invoices.cancel_unpaid(old.account_id, old.invoice_id, "plan_change")
        return self._issue_renewal(
            service, service.next_due_date, plan.product_name, plan.price, plan.tax_category, plan.cycle
        )

    def _issue_renewal(
        self, service: Service, due: date, name: str, price: Money, tax_category: str | None, cycle: BillingCycle
    ) -> Invoice:
        """The renewal invoice of the period starting on ``due``, pointed to by the service's renewal guard."""
        buyer = self._buyer(service.account_id)
        period = period_from(due, cycle, service.anchor_day)
        line = InvoiceLine(
            f"{name} — {service.domain}" if service.domain else name,
            1,
            price,
            tax_category,
            service_id=service.service_id,
            period_start=period.start,
            period_end=period.end,
        )
        draft = self.invoices.draft_for(service.account_id, InvoiceKind.RENEWAL, [line], buyer, due_date=due)
        invoice = self.invoices.issue_new(draft, buyer=buyer)
        self.store.point_renewal(service.service_id, period.start, service.account_id, invoice.invoice_id)
        return invoice

    # --- cancellation requests ----------------------------------------------------------------------------------------
    def request_cancellation(
        self, account_id: str, service_id: str, kind: CancellationType, reason: str, actor: str
    ) -> Service:
        """``immediate``: cancelled now (the panel account removed); ``end_of_period``: on the next due date (job
        ``cancellations``), not renewed meanwhile. The unpaid renewal is cancelled; a pending plan change too."""
        service = self.service(account_id, service_id)
        if service.status not in (ServiceStatus.ACTIVE, ServiceStatus.SUSPENDED):
            raise ServiceNotActiveError()
        if service.cancellation is not None:
            raise CancellationRequestedError()
        reason = reason.strip()
        if not reason:
            raise InvalidInputError([FieldProblem("reason", "required", N_("Tell us why you are cancelling."))])
        today = self.today()
        due = service.next_due_date or today
        effective = today if kind is CancellationType.IMMEDIATE or due <= today else due
        if service.pending_order_id is not None:
            self._drop_pending_change(service, actor)
        self._cancel_unpaid_renewal(service, "cancellation")

        def attempt() -> Service:
            current = self.service(account_id, service_id)
            if current.cancellation is not None:
                raise CancellationRequestedError()
            request = Cancellation(kind, reason, self.clock.now(), actor, effective)
            asked = replace(current, cancellation=request, auto_renew=False)
            change = ServiceChange()
            if effective <= today:
                asked = self._move(asked, ServiceStatus.CANCELLED, ServiceReason.CUSTOMER_REQUEST, actor, change)
            else:
                change.service(asked, current)
                change.events.append(
                    self._service_event(
                        "service.cancellation_requested",
                        asked,
                        actor=actor,
                        cancellation_type=kind.value,
                        effective_date=effective.isoformat(),
                        reason=reason,
                    )
                )
            self.store.commit(change)
            return asked

        return self._retrying(attempt)

    def withdraw_cancellation(self, account_id: str, service_id: str, actor: str) -> Service:
        """Before its date, the customer keeps the service: it renews again (a cancelled renewal is issued again)."""

        def attempt() -> Service:
            service = self.service(account_id, service_id)
            if service.cancellation is None or service.status in FINAL:
                raise NoCancellationRequestError()
            kept = replace(service, cancellation=None, auto_renew=True)
            change = ServiceChange()
            change.service(kept, service)
            change.events.append(self._service_event("service.cancellation_withdrawn", kept, actor=actor))
            self.store.commit(change)
            return kept

        kept = self._retrying(attempt)
        self._restore_renewal(kept)
        return kept

    def _drop_pending_change(self, service: Service, actor: str) -> None:
        assert service.pending_order_id is not None
        order = self.store.order(service.account_id, service.pending_order_id)
        if order is not None and order.invoice_id is not None and order.status is OrderStatus.PENDING:
            self.invoices.cancel_unpaid(service.account_id, order.invoice_id, "cancellation")
        self._retrying(lambda: self._cancel_order(service.account_id, service.pending_order_id or "", actor))

    def _cancel_unpaid_renewal(self, service: Service, reason: str) -> None:
        if service.next_due_date is None:
            return
        invoice_id = self.store.renewal_invoice_id(service.service_id, service.next_due_date)
        invoice = self.invoices.store.invoice(service.account_id, invoice_id) if invoice_id else None
        if invoice is not None and invoice.is_unpaid and invoice.amount_paid.is_zero:
            self.invoices.cancel_unpaid(service.account_id, invoice.invoice_id, reason)

    def _restore_renewal(self, service: Service) -> None:
        """A renewal cancelled for the request is issued again (the guard of its period names the new one)."""
        if service.next_due_date is None or service.price is None or service.cycle is None:
            return
        invoice_id = self.store.renewal_invoice_id(service.service_id, service.next_due_date)
        old = self.invoices.store.invoice(service.account_id, invoice_id) if invoice_id else None
        if old is None or old.status is not InvoiceStatus.CANCELLED:
            return
        self._issue_renewal(
            service, service.next_due_date, service.name, service.price, service.tax_category, service.cycle
        )

    # --- jobs ---------------------------------------------------------------------------------------------------------
    def cancel_unpaid_orders(self) -> dict[str, int]:
        """Job ``unpaid_orders``: new orders still unpaid after their invoice's due date are cancelled with their
        invoice and their pending services; an invoice with a payment in flight waits for it."""
        return self._cancel_unpaid(OrderKind.NEW, "system:unpaid_orders")

    def cancel_unpaid_changes(self) -> dict[str, int]:
        """Job ``unpaid_upgrades``: plan changes still unpaid after their invoice's due date are dropped."""
        return self._cancel_unpaid(OrderKind.CHANGE, "system:unpaid_upgrades")

    def _cancel_unpaid(self, kind: OrderKind, actor: str) -> dict[str, int]:
        counts = {"cancelled": 0, "skipped": 0, "failed": 0}
        for order in self.store.pending_orders(kind, self.today()):
            try:
                outcome = self._cancel_one_unpaid(order, actor)
            except Exception:
                logger.exception("unpaid order not cancelled", extra={"order_id": order.order_id})
                outcome = "failed"
            counts[outcome] += 1
        return counts

    def _cancel_one_unpaid(self, order: Order, actor: str) -> str:
        if order.invoice_id is not None:
            invoice = self.invoices.store.invoice(order.account_id, order.invoice_id)
            if invoice is not None and invoice.status in (
                InvoiceStatus.PAYMENT_PENDING,
                InvoiceStatus.PARTIALLY_PAID,
                InvoiceStatus.PAID,
            ):
                return "skipped"
            if invoice is not None and invoice.is_unpaid:
                self.invoices.cancel_unpaid(order.account_id, order.invoice_id, "unpaid")
        outcome = self._retrying(lambda: self._cancel_order(order.account_id, order.order_id, actor))
        return "cancelled" if outcome == "cancelled" else "skipped"

    def run_cancellations(self) -> dict[str, int]:
        """Job ``cancellations``: requests whose date came are carried out (status ``cancelled``, panel account
        removed)."""
        counts = {"cancelled": 0, "skipped": 0, "failed": 0}
        today = self.today()
        for due in self.store.cancellations_due(today):
            try:
                moved = self._transition(
                    due.account_id,
                    due.service_id,
                    ServiceStatus.CANCELLED,
                    ServiceReason.CUSTOMER_REQUEST,
                    "system:cancellations",
                    only_if=lambda s: (
                        s.cancellation is not None
                        and s.cancellation.effective_date <= today
                        and s.status in (ServiceStatus.ACTIVE, ServiceStatus.SUSPENDED)
                    ),
                )
            except Exception:
                logger.exception("cancellation not carried out", extra={"service_id": due.service_id})
                counts["failed"] += 1
                continue
            counts["cancelled" if moved is not None else "skipped"] += 1
        return counts

    # --- events and retries -------------------------------------------------------------------------------------------
    def _service_event(self, event_type: str, service: Service, **extra: object) -> DomainEvent:
        data: dict[str, object] = {
            "service_id": service.service_id,
            "name": service.name,
            "domain": service.domain,
            "status": service.status.value,
            "reason": service.reason.value if service.reason else None,
            "next_due_date": service.next_due_date.isoformat() if service.next_due_date else None,
            "username": service.username,
            "server": service.server,
            **extra,
        }
        return DomainEvent(new_ulid(), event_type, self.clock.now(), service.account_id, None, data)

    def _order_event(self, event_type: str, order: Order, **extra: object) -> DomainEvent:
        data: dict[str, object] = {
            "order_id": order.order_id,
            "kind": order.kind.value,
            "invoice_id": order.invoice_id,
            "service_ids": list(order.service_ids),
            **extra,
        }
        return DomainEvent(new_ulid(), event_type, self.clock.now(), order.account_id, None, data)

    def _retrying(self, attempt: Callable[[], T]) -> T:
        """Run ``attempt`` again after a lost race on a service or an order, from fresh reads."""
        for number in range(MAX_ATTEMPTS):
            try:
                return attempt()
            except ServiceChangedError:
                if number == MAX_ATTEMPTS - 1:
                    raise
                _pause(number)
        raise AssertionError("unreachable")


__all__ = ["BalcaoError", "ServiceChange", "Services"]

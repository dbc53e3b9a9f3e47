"""The services capability's items: services (``ACCOUNT#{id}`` / ``SERVICE#{id}``), orders, provisioning requests,
the lookups by service id, by order invoice and by hosted domain, and the one transaction of a ``ServiceChange``.

A service item is written whole, on the condition that its ``revision`` is still the one read (every writer adds
one, the renewal run's due-date advance included). Its index entries follow its state: GSI2 ``DUE#{date}`` while it
renews (active or suspended), GSI3 ``cancellations`` while a cancellation request waits for its date.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import date
from typing import Any, cast

from pynamodb.expressions.condition import Condition
from pynamodb.pagination import ResultIterator

from balcao.adapters.dynamodb import keys
from balcao.adapters.dynamodb.cursors import GSI3_KEY, TABLE_KEY, encode_cursor, start_key
from balcao.adapters.dynamodb.invoices import buyer_from_account, credit_entry_item, one_page
from balcao.adapters.dynamodb.models import (
    AccountItem,
    BalcaoItem,
    CreditBalanceItem,
    LookupItem,
    OrderItem,
    ProductItem,
    ProvisioningRequestItem,
    ServiceItem,
)
from balcao.adapters.dynamodb.transaction import Transaction
from balcao.domain.calendar import format_timestamp, parse_timestamp
from balcao.domain.catalog import OutOfStockError
from balcao.domain.credit import CreditCurrencyMismatchError
from balcao.domain.cycles import BillingCycle
from balcao.domain.errors import N_
from balcao.domain.invoices import Buyer
from balcao.domain.money import Currency, Money
from balcao.domain.service_lifecycle import ServiceReason, ServiceStatus, StatusChange
from balcao.domain.services import (
    Cancellation,
    CancellationType,
    DomainAlreadyHostedError,
    LiveSnapshot,
    Order,
    OrderKind,
    OrderStatus,
    PaidPeriod,
    PlanChange,
    ProvisioningAction,
    ProvisioningRequest,
    ProvisioningState,
    ProvisioningStatus,
    Service,
    ServiceChangedError,
)
from balcao.services.services import ServiceChange

RENEWING = frozenset({ServiceStatus.ACTIVE, ServiceStatus.SUSPENDED})
QUEUE_OF_KIND = {OrderKind.NEW: keys.QUEUE_PENDING_ORDERS, OrderKind.CHANGE: keys.QUEUE_PENDING_CHANGES}


def _money(amount: int | float | None, currency: Currency) -> Money | None:
    return Money(int(amount), currency) if amount is not None else None


def _money_json(value: Money) -> dict[str, Any]:
    return value.to_json()


def _money_from(data: Mapping[str, Any]) -> Money:
    return Money(int(data["amount"]), Currency(data["currency"]))


def _day(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None


# --- services ⇄ items -------------------------------------------------------------------------------------------------
def service_item(service: Service) -> ServiceItem:
    currency = service.plan_price.currency.value if service.plan_price else None
    item = ServiceItem(
        pk=keys.account_pk(service.account_id),
        sk=keys.service_sk(service.service_id),
        service_id=service.service_id,
        account_id=service.account_id,
        name=service.name,
        domain=service.domain,
        status=service.status.value,
        product_id=service.product_id,
        cycle=service.cycle.value if service.cycle else None,
        price=service.price.amount if service.price else None,
        currency=currency,
        tax_category=service.tax_category,
        next_due_date=service.next_due_date.isoformat() if service.next_due_date else None,
        auto_renew=service.auto_renew,
        anchor_day=service.anchor_day,
        order_id=service.order_id,
        product_type=service.product_type,
        reason=service.reason.value if service.reason else None,
        plan_price=service.plan_price.amount if service.plan_price else None,
        support_level=service.support_level,
        support_name=service.support_name,
        support_price=service.support_price.amount if service.support_price else None,
        module=service.module,
        package=service.package,
        username=service.username,
        server=service.server,
        ip=service.ip,
        history=[
            {
                "status": c.status.value,
                "reason": c.reason.value if c.reason else None,
                "actor": c.actor,
                "at": format_timestamp(c.at),
            }
            for c in service.history
        ]
        or None,
        paid_periods=[
            {"start": p.start.isoformat(), "end": p.end.isoformat(), "paid": _money_json(p.paid)}
            for p in service.paid_periods
        ]
        or None,
        provisioning=_provisioning_json(service.provisioning),
        cancellation=_cancellation_json(service.cancellation),
        live=_live_json(service.live),
        pending_order_id=service.pending_order_id,
        created_at=service.created_at,
        revision=(service.revision or 0) + 1,
    )
    if service.status in RENEWING and service.next_due_date is not None:
        item.gsi2pk = keys.gsi2_due_pk(service.next_due_date.isoformat())
        item.gsi2sk = keys.gsi2_service_sk(service.service_id)
    if service.cancellation is not None and service.status in RENEWING:
        item.gsi3pk = keys.QUEUE_CANCELLATIONS
        item.gsi3sk = keys.gsi3_queue_sk(service.cancellation.effective_date.isoformat(), service.service_id)
    return item


def _provisioning_json(state: ProvisioningStatus | None) -> dict[str, Any] | None:
    if state is None:
        return None
    return {
        "request_id": state.request_id,
        "action": state.action.value,
        "state": state.state.value,
        "updated_at": format_timestamp(state.updated_at),
        "error": state.error,
    }


def _cancellation_json(request: Cancellation | None) -> dict[str, Any] | None:
    if request is None:
        return None
    return {
        "type": request.type.value,
        "reason": request.reason,
        "requested_at": format_timestamp(request.requested_at),
        "requested_by": request.requested_by,
        "effective_date": request.effective_date.isoformat(),
    }


def _live_json(live: LiveSnapshot | None) -> dict[str, Any] | None:
    if live is None:
        return None
    return {
        "state": live.state,
        "checked_at": format_timestamp(live.checked_at),
        "disk_used_mb": live.disk_used_mb,
        "disk_limit_mb": live.disk_limit_mb,
        "bandwidth_used_mb": live.bandwidth_used_mb,
    }


def service_from_item(item: ServiceItem) -> Service:
    currency = Currency(item.currency) if item.currency else None
    plan = item.plan_price if item.plan_price is not None else item.price
    provisioning = item.provisioning
    cancellation = item.cancellation
    live = item.live
    return Service(
        service_id=item.service_id,
        account_id=item.account_id,
        name=item.name,
        status=ServiceStatus(item.status),
        created_at=item.created_at,
        domain=item.domain,
        order_id=item.order_id,
        product_id=item.product_id,
        product_type=item.product_type,
        reason=ServiceReason(item.reason) if item.reason else None,
        cycle=BillingCycle(item.cycle) if item.cycle else None,
        plan_price=_money(plan, currency) if currency else None,
        support_level=item.support_level,
        support_name=item.support_name,
        support_price=_money(item.support_price or 0, currency) if currency else None,
        tax_category=item.tax_category,
        next_due_date=_day(item.next_due_date),
        anchor_day=int(item.anchor_day) if item.anchor_day is not None else None,
        auto_renew=item.auto_renew is not False,
        module=item.module,
        package=item.package,
        username=item.username,
        server=item.server,
        ip=item.ip,
        history=tuple(
            StatusChange(
                ServiceStatus(c["status"]),
                ServiceReason(c["reason"]) if c.get("reason") else None,
                str(c["actor"]),
                parse_timestamp(c["at"]),
            )
            for c in item.history or []
        ),
        paid_periods=tuple(
            PaidPeriod(date.fromisoformat(p["start"]), date.fromisoformat(p["end"]), _money_from(p["paid"]))
            for p in item.paid_periods or []
        ),
        provisioning=ProvisioningStatus(
            provisioning["request_id"],
            ProvisioningAction(provisioning["action"]),
            ProvisioningState(provisioning["state"]),
            parse_timestamp(provisioning["updated_at"]),
            provisioning.get("error"),
        )
        if provisioning
        else None,
        cancellation=Cancellation(
            CancellationType(cancellation["type"]),
            str(cancellation["reason"]),
            parse_timestamp(cancellation["requested_at"]),
            str(cancellation["requested_by"]),
            date.fromisoformat(cancellation["effective_date"]),
        )
        if cancellation
        else None,
        live=LiveSnapshot(
            str(live["state"]),
            parse_timestamp(live["checked_at"]),
            live.get("disk_used_mb"),
            live.get("disk_limit_mb"),
            live.get("bandwidth_used_mb"),
        )
        if live
        else None,
        pending_order_id=item.pending_order_id,
        revision=int(item.revision) if item.revision is not None else None,
    )


# --- orders ⇄ items ---------------------------------------------------------------------------------------------------
def _change_json(change: PlanChange | None) -> dict[str, Any] | None:
    if change is None:
        return None
    return {
        "service_id": change.service_id,
        "product_id": change.product_id,
        "product_name": change.product_name,
        "product_type": change.product_type,
        "cycle": change.cycle.value,
        "plan_price": _money_json(change.plan_price),
        "support_level": change.support_level,
        "support_name": change.support_name,
        "support_price": _money_json(change.support_price),
        "module": change.module,
        "package": change.package,
        "tax_category": change.tax_category,
        "credit": _money_json(change.credit),
        "debit": _money_json(change.debit),
        "next_period_adjustment": _money_json(change.next_period_adjustment),
        "quoted_on": change.quoted_on.isoformat(),
        "current_end": change.current_end.isoformat(),
        "prepaid_end": change.prepaid_end.isoformat() if change.prepaid_end else None,
        "prepaid_paid": _money_json(change.prepaid_paid) if change.prepaid_paid else None,
    }


def _change_from(data: Mapping[str, Any] | None) -> PlanChange | None:
    if not data:
        return None
    return PlanChange(
        service_id=str(data["service_id"]),
        product_id=str(data["product_id"]),
        product_name=str(data["product_name"]),
        product_type=str(data["product_type"]),
        cycle=BillingCycle(data["cycle"]),
        plan_price=_money_from(data["plan_price"]),
        support_level=data.get("support_level"),
        support_name=data.get("support_name"),
        support_price=_money_from(data["support_price"]),
        module=str(data["module"]),
        package=data.get("package"),
        tax_category=data.get("tax_category"),
        credit=_money_from(data["credit"]),
        debit=_money_from(data["debit"]),
        next_period_adjustment=_money_from(data["next_period_adjustment"]),
        quoted_on=date.fromisoformat(data["quoted_on"]),
        current_end=date.fromisoformat(data["current_end"]),
        prepaid_end=_day(data.get("prepaid_end")),
        prepaid_paid=_money_from(data["prepaid_paid"]) if data.get("prepaid_paid") else None,
    )


def order_item(order: Order) -> OrderItem:
    item = OrderItem(
        pk=keys.account_pk(order.account_id),
        sk=keys.order_sk(order.order_id),
        order_id=order.order_id,
        account_id=order.account_id,
        kind=order.kind.value,
        status=order.status.value,
        invoice_id=order.invoice_id,
        service_ids=list(order.service_ids),
        currency=order.amount_due.currency.value,
        amount_due=order.amount_due.amount,
        due_date=order.due_date.isoformat(),
        created_at=order.created_at,
        status_at=order.status_at,
        change=_change_json(order.change),
        revision=(order.revision or 0) + 1,
    )
    if order.status is OrderStatus.PENDING:
        item.gsi3pk = QUEUE_OF_KIND[order.kind]
        item.gsi3sk = keys.gsi3_queue_sk(order.due_date.isoformat(), order.order_id)
    return item


def order_from_item(item: OrderItem) -> Order:
    currency = Currency(item.currency)
    return Order(
        order_id=item.order_id,
        account_id=item.account_id,
        kind=OrderKind(item.kind),
        status=OrderStatus(item.status),
        service_ids=tuple(str(s) for s in item.service_ids or []),
        amount_due=Money(int(item.amount_due), currency),
        due_date=date.fromisoformat(item.due_date),
        created_at=item.created_at,
        status_at=item.status_at,
        invoice_id=item.invoice_id,
        change=_change_from(item.change),
        revision=int(item.revision) if item.revision is not None else None,
    )


# --- provisioning requests ⇄ items ------------------------------------------------------------------------------------
def request_item(request: ProvisioningRequest) -> ProvisioningRequestItem:
    item = ProvisioningRequestItem(
        pk=keys.account_pk(request.account_id),
        sk=keys.provisioning_sk(request.request_id),
        request_id=request.request_id,
        account_id=request.account_id,
        service_id=request.service_id,
        action=request.action.value,
        state=request.state.value,
        attempts=request.attempts,
        error=request.error,
        reason=request.reason,
        contact_email=request.contact_email,
        created_at=request.created_at,
        updated_at=request.updated_at,
        revision=(request.revision or 0) + 1,
    )
    if request.state is ProvisioningState.FAILED:
        item.gsi3pk = keys.QUEUE_PROVISIONING_FAILURES
        item.gsi3sk = keys.gsi3_queue_sk(keys.sortable_moment(request.updated_at), request.request_id)
    return item


def request_from_item(item: ProvisioningRequestItem) -> ProvisioningRequest:
    return ProvisioningRequest(
        request_id=item.request_id,
        account_id=item.account_id,
        service_id=item.service_id,
        action=ProvisioningAction(item.action),
        state=ProvisioningState(item.state),
        created_at=item.created_at,
        updated_at=item.updated_at,
        attempts=int(item.attempts or 0),
        error=item.error,
        reason=item.reason,
        contact_email=item.contact_email,
        revision=int(item.revision) if item.revision is not None else None,
    )


def _revision_condition(attribute: Any, before_exists: bool, revision: int | None) -> Condition:
    if not before_exists:
        return attribute.does_not_exist()  # type: ignore[no-any-return]
    if revision is None:
        return attribute.does_not_exist()  # type: ignore[no-any-return]
    return attribute == revision  # type: ignore[no-any-return]


# --- the store --------------------------------------------------------------------------------------------------------
class DynamoServiceStore:
    def service(self, account_id: str, service_id: str) -> Service | None:
        try:
            item = ServiceItem.get(keys.account_pk(account_id), keys.service_sk(service_id), consistent_read=True)
        except ServiceItem.DoesNotExist:
            return None
        return service_from_item(item)

    def service_with_buyer(self, account_id: str, service_id: str) -> tuple[Service | None, Buyer | None]:
        """A service and its account's buyer snapshot in one BatchGet (the plan change page's one read)."""
        pk = keys.account_pk(account_id)
        service: Service | None = None
        buyer: Buyer | None = None
        for item in BalcaoItem.batch_get([(pk, keys.service_sk(service_id)), (pk, keys.PROFILE)], consistent_read=True):
            if isinstance(item, ServiceItem):
                service = service_from_item(item)
            elif isinstance(item, AccountItem):
                buyer = buyer_from_account(item)
        return service, buyer

    def locate(self, service_id: str) -> str | None:
        try:
            lookup = LookupItem.get(keys.service_lookup_pk(service_id), keys.LOOKUP)
        except LookupItem.DoesNotExist:
            return None
        return str(lookup.target["account_id"])

    def services(self, account_id: str, limit: int, cursor: str | None) -> tuple[list[Service], str | None]:
        """One query of the account's partition (``SERVICE#`` items), oldest first."""
        partition = keys.account_pk(account_id)
        results = ServiceItem.query(
            partition,
            ServiceItem.sk.startswith(keys.SERVICE_PREFIX),
            limit=limit,
            page_size=limit,
            last_evaluated_key=start_key(cursor, {"pk": partition}, TABLE_KEY),
        )
        items, last = one_page(cast("ResultIterator[BalcaoItem]", results))
        found = [service_from_item(i) for i in items if isinstance(i, ServiceItem)]
        return found, encode_cursor(last)

    def order(self, account_id: str, order_id: str) -> Order | None:
        try:
            item = OrderItem.get(keys.account_pk(account_id), keys.order_sk(order_id), consistent_read=True)
        except OrderItem.DoesNotExist:
            return None
        return order_from_item(item)

    def order_of_invoice(self, invoice_id: str) -> tuple[str, str] | None:
        try:
            lookup = LookupItem.get(keys.order_invoice_lookup_pk(invoice_id), keys.LOOKUP, consistent_read=True)
        except LookupItem.DoesNotExist:
            return None
        return str(lookup.target["account_id"]), str(lookup.target["order_id"])

    def pending_orders(self, kind: OrderKind, due_before: date) -> Iterator[Order]:
        """GSI3 ``pending_orders`` / ``pending_changes`` whose invoice was due before ``due_before``."""
        for item in OrderItem.by_gsi3.query(QUEUE_OF_KIND[kind], OrderItem.gsi3sk < due_before.isoformat()):
            if isinstance(item, OrderItem):
                yield order_from_item(item)

    def cancellations_due(self, day: date) -> Iterator[Service]:
        """GSI3 ``cancellations`` up to ``day`` (inclusive)."""
        bound = keys.gsi3_queue_sk(day.isoformat(), "~")
        for item in ServiceItem.by_gsi3.query(keys.QUEUE_CANCELLATIONS, ServiceItem.gsi3sk <= bound):
            if isinstance(item, ServiceItem):
                yield service_from_item(item)

    def renewal_invoice_id(self, service_id: str, period_start: date) -> str | None:
        try:
            lookup = LookupItem.get(keys.renewal_guard_pk(service_id, period_start.isoformat()), keys.LOOKUP)
        except LookupItem.DoesNotExist:
            return None
        value = lookup.target.get("invoice_id")
        return str(value) if value else None

    def point_renewal(self, service_id: str, period_start: date, account_id: str, invoice_id: str) -> None:
        LookupItem(
            pk=keys.renewal_guard_pk(service_id, period_start.isoformat()),
            sk=keys.LOOKUP,
            target={"account_id": account_id, "invoice_id": invoice_id},
        ).save()

    def request(self, account_id: str, request_id: str) -> ProvisioningRequest | None:
        try:
            item = ProvisioningRequestItem.get(
                keys.account_pk(account_id), keys.provisioning_sk(request_id), consistent_read=True
            )
        except ProvisioningRequestItem.DoesNotExist:
            return None
        return request_from_item(item)

    def failed_requests(self, limit: int, cursor: str | None) -> tuple[list[ProvisioningRequest], str | None]:
        """GSI3 ``provisioning_failures``, oldest failure first (one query)."""
        partition = keys.QUEUE_PROVISIONING_FAILURES
        results = ProvisioningRequestItem.by_gsi3.query(
            partition,
            limit=limit,
            page_size=limit,
            last_evaluated_key=start_key(cursor, {"gsi3pk": partition}, GSI3_KEY),
        )
        items, last = one_page(results)
        found = [request_from_item(i) for i in items if isinstance(i, ProvisioningRequestItem)]
        return found, encode_cursor(last)

    # --- the one transaction ----------------------------------------------------------------------------------------
    def commit(self, change: ServiceChange) -> None:
        transaction = Transaction()
        for write in change.services:
            before = write.before
            condition = _revision_condition(
                ServiceItem.revision, before is not None, before.revision if before else None
            )
            transaction.save(service_item(write.after), condition=condition, error=ServiceChangedError())
            if before is None:
                transaction.save(
                    LookupItem(
                        pk=keys.service_lookup_pk(write.after.service_id),
                        sk=keys.LOOKUP,
                        target={"account_id": write.after.account_id},
                    ),
                    condition=LookupItem.pk.does_not_exist(),
                )
        for order_write in change.orders:
            previous = order_write.before
            condition = _revision_condition(
                OrderItem.revision, previous is not None, previous.revision if previous else None
            )
            transaction.save(order_item(order_write.after), condition=condition, error=ServiceChangedError())
            if previous is None and order_write.after.invoice_id is not None:
                transaction.save(
                    LookupItem(
                        pk=keys.order_invoice_lookup_pk(order_write.after.invoice_id),
                        sk=keys.LOOKUP,
                        target={"account_id": order_write.after.account_id, "order_id": order_write.after.order_id},
                    ),
                    condition=LookupItem.pk.does_not_exist(),
                )
        for request_write in change.requests:
            earlier = request_write.before
            condition = _revision_condition(
                ProvisioningRequestItem.revision, earlier is not None, earlier.revision if earlier else None
            )
            transaction.save(request_item(request_write.after), condition=condition, error=ServiceChangedError())
        for claim in change.claims:
            transaction.save(
                LookupItem(
                    pk=keys.hosted_domain_lookup_pk(claim.domain),
                    sk=keys.LOOKUP,
                    target={"account_id": claim.account_id, "service_id": claim.service_id},
                ),
                condition=LookupItem.pk.does_not_exist(),
                error=DomainAlreadyHostedError(),
            )
        for domain in change.releases:
            transaction.delete(LookupItem(pk=keys.hosted_domain_lookup_pk(domain), sk=keys.LOOKUP))
        for product_id, quantity in change.stock:
            transaction.update(
                ProductItem(pk=keys.catalog_pk(), sk=keys.product_sk(product_id)),
                actions=[ProductItem.stock.add(-quantity), ProductItem.revision.add(1)],
                condition=ProductItem.stock >= quantity,
                error=OutOfStockError(),
            )
        for entry in change.credit:
            transaction.save(credit_entry_item(entry))
            transaction.update(
                CreditBalanceItem(pk=keys.account_pk(entry.account_id), sk=keys.CREDIT_BALANCE),
                actions=[
                    CreditBalanceItem.entity.set(CreditBalanceItem),
                    CreditBalanceItem.currency.set(CreditBalanceItem.currency | entry.amount.currency.value),
                    CreditBalanceItem.amount.add(entry.amount.amount),
                ],
                condition=CreditBalanceItem.currency.does_not_exist()
                | (CreditBalanceItem.currency == entry.amount.currency.value),
                error=CreditCurrencyMismatchError.single(
                    "amount.currency", N_("This account's credit is in another currency.")
                ),
            )
        for event in change.events:
            transaction.emit(event)
        transaction.commit()

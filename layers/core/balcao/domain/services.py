"""A hosting service, the orders that create or change it, its cancellation request and what the control panel is
asked to do for it.

- A service is created ``pending`` by an order and becomes ``active`` when the order's invoice is paid (or staff
  activate it); every status change goes through ``service_lifecycle`` with a reason and an actor, and is kept in
  the service's history.
- The service remembers what was paid for each of its recent periods (``paid_periods``): the proration of a plan
  change credits what was actually paid for the current period, not the list price.
- Its first period starts on the order's day, which is also its anchor day: periods keep that day of the month.
  A pending service's next due date is its start, so the order invoice's line renews it like any renewal line and
  the due date moves one period when the invoice is paid.
- A cancellation request is ``immediate`` or ``end_of_period`` (the next due date); until it happens the customer
  may withdraw it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from enum import StrEnum

from balcao.domain.cycles import BillingCycle, period_start
from balcao.domain.errors import N_, ConflictError
from balcao.domain.money import Money
from balcao.domain.proration import CurrentPeriod, PrepaidNextPeriod
from balcao.domain.service_lifecycle import ServiceReason, ServiceStatus, StatusChange, check_transition

HISTORY_LIMIT = 20
PAID_PERIODS_KEPT = 4


# --- errors ---------------------------------------------------------------------------------------------------------
class ServiceNotActiveError(ConflictError):
    default_message = N_("This service is not active.")


class ServiceNotProvisionedError(ConflictError):
    default_message = N_("This service is still being set up on the server. Try again in a few minutes.")


class ChangePendingError(ConflictError):
    default_message = N_("A plan change of this service is waiting for payment.")


class CancellationRequestedError(ConflictError):
    default_message = N_("This service has a cancellation request.")


class NoCancellationRequestError(ConflictError):
    default_message = N_("This service has no cancellation request to withdraw.")


class RenewalPaymentInFlightError(ConflictError):
    default_message = N_("The renewal invoice of this service has a payment in progress. Try again once it is paid.")


class OrderNotPendingError(ConflictError):
    default_message = N_("This order is no longer waiting for payment.")


class ProvisioningNotFailedError(ConflictError):
    default_message = N_("The last provisioning action of this service did not fail.")


class ServiceChangedError(ConflictError):
    """Someone changed the service since it was read (optimistic lock); retried from a fresh read."""

    default_message = N_("This service was changed at the same time. Reload and try again.")


class DomainAlreadyHostedError(ConflictError):
    default_message = N_("This domain is already hosted by another service.")


# --- value objects --------------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class PaidPeriod:
    """What was paid for ``[start, end)`` (``end`` is the due date that follows it)."""

    start: date
    end: date
    paid: Money


class CancellationType(StrEnum):
    IMMEDIATE = "immediate"
    END_OF_PERIOD = "end_of_period"


@dataclass(frozen=True, slots=True)
class Cancellation:
    type: CancellationType
    reason: str
    requested_at: datetime
    requested_by: str
    effective_date: date


class ProvisioningAction(StrEnum):
    CREATE = "create"
    SUSPEND = "suspend"
    UNSUSPEND = "unsuspend"
    TERMINATE = "terminate"
    CHANGE_PACKAGE = "change_package"


class ProvisioningState(StrEnum):
    QUEUED = "queued"  # waiting for (another) attempt
    SUCCEEDED = "succeeded"
    FAILED = "failed"  # given up: staff see it and may retry
    SUPERSEDED = "superseded"  # a later change made it pointless (a suspension lifted before it ran)


@dataclass(frozen=True, slots=True)
class ProvisioningStatus:
    """The service's last provisioning request, as the service shows it."""

    request_id: str
    action: ProvisioningAction
    state: ProvisioningState
    updated_at: datetime
    error: str | None = None


@dataclass(frozen=True, slots=True)
class ProvisioningRequest:
    """One action asked of the control panel for a service; done at most once per request id."""

    request_id: str
    account_id: str
    service_id: str
    action: ProvisioningAction
    state: ProvisioningState
    created_at: datetime
    updated_at: datetime
    attempts: int = 0
    error: str | None = None
    reason: str | None = None  # what a suspension says on the panel
    contact_email: str | None = None
    revision: int | None = None

    def status(self) -> ProvisioningStatus:
        return ProvisioningStatus(self.request_id, self.action, self.state, self.updated_at, self.error)


@dataclass(frozen=True, slots=True)
class LiveSnapshot:
    """The last state read from the control panel (the cached fallback of the live status)."""

    state: str
    checked_at: datetime
    disk_used_mb: int | None = None
    disk_limit_mb: int | None = None
    bandwidth_used_mb: int | None = None


# --- the service ----------------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Service:
    service_id: str
    account_id: str
    name: str
    status: ServiceStatus
    created_at: datetime | None = None
    domain: str | None = None
    order_id: str | None = None
    product_id: str | None = None
    product_type: str | None = None
    reason: ServiceReason | None = None
    cycle: BillingCycle | None = None
    plan_price: Money | None = None
    support_level: str | None = None
    support_name: str | None = None
    support_price: Money | None = None
    tax_category: str | None = None
    next_due_date: date | None = None
    anchor_day: int | None = None
    auto_renew: bool = True
    module: str | None = None
    package: str | None = None
    username: str | None = None
    server: str | None = None
    ip: str | None = None
    history: tuple[StatusChange, ...] = ()
    paid_periods: tuple[PaidPeriod, ...] = ()
    provisioning: ProvisioningStatus | None = None
    cancellation: Cancellation | None = None
    live: LiveSnapshot | None = None
    pending_order_id: str | None = None
    revision: int | None = None

    # --- reading ------------------------------------------------------------------------------------------------
    @property
    def price(self) -> Money | None:
        """The recurring price of one cycle: the plan and its support level, net of tax."""
        if self.plan_price is None:
            return None
        return self.plan_price + (self.support_price or Money.zero(self.plan_price.currency))

    @property
    def is_provisioned(self) -> bool:
        """The control panel has the account (its creation succeeded)."""
        return self.server is not None and self.username is not None

    @property
    def changed_at(self) -> datetime | None:
        return self.history[-1].at if self.history else self.created_at

    # --- changes ------------------------------------------------------------------------------------------------
    def moved_to(
        self, wanted: ServiceStatus, reason: ServiceReason | None, actor: str, at: datetime
    ) -> tuple[Service, StatusChange]:
        """A lifecycle transition (``IllegalTransitionError`` when the contract forbids it), kept in the history."""
        check_transition(self.status, wanted)
        kept_reason = None if wanted is ServiceStatus.ACTIVE else reason
        change = StatusChange(wanted, kept_reason, actor, at)
        history = (*self.history, change)[-HISTORY_LIMIT:]
        moved = replace(self, status=wanted, reason=kept_reason, history=history)
        if wanted in (ServiceStatus.CANCELLED, ServiceStatus.TERMINATED):
            moved = replace(moved, auto_renew=False, pending_order_id=None)
        return moved, change

    def with_paid_period(self, period: PaidPeriod) -> Service:
        """Remember what was paid for ``period``: it replaces every period it overlaps (a plan change restarts the
        current period on its day), and only the newest few are kept."""
        kept = [p for p in self.paid_periods if p.end <= period.start or p.start >= period.end]
        ordered = sorted([*kept, period], key=lambda p: p.start)
        return replace(self, paid_periods=tuple(ordered[-PAID_PERIODS_KEPT:]))

    def proration_periods(self, today: date) -> tuple[CurrentPeriod, PrepaidNextPeriod | None]:
        """The period ``today`` is in (and what was paid for it), and the next one if its renewal is paid already.

        A renewal paid in advance has moved the next due date one period on: the period containing today then ends
        before the next due date, and the period after it is prepaid.
        """
        assert self.next_due_date is not None and self.cycle is not None and self.plan_price is not None
        zero = Money.zero(self.plan_price.currency)
        containing = next((p for p in self.paid_periods if p.start <= today < p.end), None)
        if containing is None:
            start = period_start(self.next_due_date, self.cycle, self.anchor_day)
            return CurrentPeriod(start, self.next_due_date, zero), None
        current = CurrentPeriod(containing.start, containing.end, containing.paid)
        if containing.end >= self.next_due_date:
            return current, None
        following = next((p for p in self.paid_periods if p.start == containing.end), None)
        if following is None:
            return current, None
        return current, PrepaidNextPeriod(following.end, following.paid)


# --- orders ---------------------------------------------------------------------------------------------------------
class OrderKind(StrEnum):
    NEW = "new"  # new services
    CHANGE = "change"  # an upgrade or downgrade of one service


class OrderStatus(StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    CANCELLED = "cancelled"


@dataclass(frozen=True, slots=True)
class PlanChange:
    """What a plan change moves the service to, and the quote it was confirmed with."""

    service_id: str
    product_id: str
    product_name: str
    product_type: str
    cycle: BillingCycle
    plan_price: Money
    support_level: str | None
    support_name: str | None
    support_price: Money
    module: str
    package: str | None
    tax_category: str | None
    credit: Money
    debit: Money
    next_period_adjustment: Money
    quoted_on: date
    current_end: date  # the end of the period the debit pays (from the quote's day)
    prepaid_end: date | None = None  # the prepaid next period's end, paid at the new price once applied
    prepaid_paid: Money | None = None  # what the prepaid next period counts as paid once the change is applied

    @property
    def amount_due(self) -> Money:
        return self.debit - self.credit + self.next_period_adjustment

    @property
    def price(self) -> Money:
        return self.plan_price + self.support_price


@dataclass(frozen=True, slots=True)
class Order:
    order_id: str
    account_id: str
    kind: OrderKind
    status: OrderStatus
    service_ids: tuple[str, ...]
    amount_due: Money
    due_date: date  # the last day to pay; the unpaid-orders jobs cancel it after
    created_at: datetime
    status_at: datetime
    invoice_id: str | None = None
    change: PlanChange | None = None
    revision: int | None = None

    def settled(self, status: OrderStatus, at: datetime) -> Order:
        if self.status is not OrderStatus.PENDING:
            raise OrderNotPendingError()
        return replace(self, status=status, status_at=at)

"""The renewal run and the due-date advance.

The run (daily, in the company's timezone) issues a renewal invoice ``lead`` days before each service's next due date:
it queries the due-date index (GSI2 ``DUE#{date}``) for each day its checkpoint has not covered yet, never scans, and
issues one invoice per (service, period) however often or concurrently it runs (a guard item in the issuing
transaction). A day is marked covered only when every service due on it was handled, so a failed renewal is tried
again next run while the others are not repeated. Numbers are claimed in sequence order, one transaction per
renewal (the sequence is cached between them), which is what keeps 10,000 renewals well inside one Lambda run.

The next due date moves only when the renewal invoice is paid: the ``invoice.paid`` consumer advances it once, with
a conditional write (``next_due_date`` still the period's start). If the new due date is already inside its renewal
window (a renewal paid very late), the next renewal is issued at once.

``BillableService`` is the seam the services capability fills: what the run needs to know about a service.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Protocol

from balcao.domain.credit import CreditBalance
from balcao.domain.cycles import BillingCycle
from balcao.domain.invoices import Buyer, Invoice, InvoiceKind, InvoiceLine
from balcao.domain.money import Money
from balcao.domain.renewals import LeadPolicy, Period, RenewalCoverage, period_from
from balcao.services.invoices import Guard, GuardKind, Invoices, RenewalAlreadyInvoicedError

logger = logging.getLogger(__name__)
RENEWING_STATUSES = frozenset({"active", "suspended"})


class BillableService(Protocol):
    """What the renewal run needs from a service (the services capability owns the service itself)."""

    @property
    def service_id(self) -> str: ...

    @property
    def account_id(self) -> str: ...

    @property
    def product_id(self) -> str | None: ...

    @property
    def description(self) -> str:
        """The invoice line's text: the product and the domain, in the account's language."""
        ...

    @property
    def status(self) -> str: ...

    @property
    def cycle(self) -> BillingCycle: ...

    @property
    def price(self) -> Money:
        """The recurring price of one cycle, net of tax, in the invoice's currency."""
        ...

    @property
    def tax_category(self) -> str | None: ...

    @property
    def next_due_date(self) -> date: ...

    @property
    def anchor_day(self) -> int | None:
        """The day of the month the service started on: its periods keep it (a service started on the 31st is due
        on the 28th in February and on the 31st again in March). None: the due date's own day."""
        ...

    @property
    def auto_renew(self) -> bool:
        """False once the customer asked to cancel at the end of the period."""
        ...


class BillableServices(Protocol):
    def due_on(self, day: date) -> Iterable[BillableService]:
        """Every service whose next due date is ``day`` (one index query per page)."""
        ...

    def service(self, account_id: str, service_id: str) -> BillableService | None: ...

    def advance(self, account_id: str, service_id: str, from_due: date, to_due: date) -> bool:
        """Move the next due date from ``from_due`` to ``to_due`` (conditional); False if it was not ``from_due``."""
        ...


class CoverageStore(Protocol):
    def load(self) -> RenewalCoverage: ...

    def save(self, coverage: RenewalCoverage) -> None: ...


class BatchReader(Protocol):
    def buyers(self, account_ids: list[str]) -> dict[str, Buyer]: ...

    def credits(self, account_ids: list[str]) -> dict[str, CreditBalance]: ...


@dataclass
class _AccountsOfRun:
    """The buyers and credit balances of the run's accounts, each read once per run (in batches, as a day first needs
    it): an account renewing on several days of a catch-up run is read once, not once a day. The run keeps a balance
    up to date as its renewals use credit."""

    batches: BatchReader
    buyers: dict[str, Buyer | None] = field(default_factory=dict)
    credits: dict[str, CreditBalance] = field(default_factory=dict)

    def read(self, account_ids: Iterable[str]) -> None:
        missing = [a for a in dict.fromkeys(account_ids) if a not in self.buyers]
        if not missing:
            return
        buyers, credits = self.batches.buyers(missing), self.batches.credits(missing)
        for account_id in missing:
            self.buyers[account_id] = buyers.get(account_id)
            # An account without a CREDIT_BALANCE item has no credit (no read per renewal).
            self.credits[account_id] = credits.get(account_id) or CreditBalance(account_id, None)


def _never() -> bool:
    return False


@dataclass
class Renewals:
    invoices: Invoices
    services: BillableServices
    coverage: CoverageStore
    batches: BatchReader

    def _policy(self) -> LeadPolicy:
        return self.invoices.settings.lead_policy()

    def run(self, out_of_time: Callable[[], bool] = _never) -> dict[str, int]:
        """Issue every renewal whose window opened since the checkpoint; counts of what happened."""
        counts = {"issued": 0, "already": 0, "skipped": 0, "failed": 0, "days": 0, "days_left": 0}
        today = self.invoices.today()
        policy = self._policy()
        coverage = self.coverage.load()
        accounts = _AccountsOfRun(self.batches)
        for window in coverage.windows(today, policy.leads):
            stuck = False  # a failure keeps this lead's checkpoint before its day: tried again next run
            for day in window.days():
                if out_of_time():
                    counts["days_left"] += (window.last - day).days + 1
                    break
                due = [
                    s for s in self.services.due_on(day) if policy.lead_for(s.product_id, s.cycle) == window.lead_days
                ]
                stuck = self._renew_all(due, accounts, counts) or stuck
                counts["days"] += 1
                if not stuck:
                    coverage = coverage.advanced(window.lead_days, day)
            self.coverage.save(coverage)
        return counts

    def _renew_all(self, due: Sequence[BillableService], accounts: _AccountsOfRun, counts: dict[str, int]) -> bool:
        accounts.read(s.account_id for s in due)
        failed = False
        for service in due:
            known = accounts.credits[service.account_id]
            outcome, invoice = self._renew_one(service, accounts.buyers[service.account_id], known)
            counts[outcome] += 1
            failed = failed or outcome == "failed"
            if invoice is not None and not invoice.amount_paid.is_zero and known.balance is not None:
                accounts.credits[service.account_id] = CreditBalance(
                    known.account_id, known.balance - invoice.amount_paid, known.auto_apply
                )
        return failed

    def _renew_one(
        self, service: BillableService, buyer: Buyer | None, credit: CreditBalance | None
    ) -> tuple[str, Invoice | None]:
        """``credit`` None: not known, read when issuing."""
        if not service.auto_renew or service.status not in RENEWING_STATUSES or buyer is None:
            return "skipped", None
        try:
            invoice = self.renew(service, buyer, credit)
        except RenewalAlreadyInvoicedError:
            return "already", None
        except Exception:
            logger.exception("renewal not issued", extra={"service_id": service.service_id})
            return "failed", None
        return "issued", invoice

    def renew(self, service: BillableService, buyer: Buyer, credit: CreditBalance | None = None) -> Invoice:
        """The renewal invoice of the service's next period (once per period: a guard in the same transaction)."""
        period = period_from(service.next_due_date, service.cycle, service.anchor_day)
        line = InvoiceLine(
            description=service.description,
            quantity=1,
            unit_price=service.price,
            tax_category=service.tax_category,
            service_id=service.service_id,
            period_start=period.start,
            period_end=period.end,
        )
        draft = self.invoices.draft_for(
            service.account_id, InvoiceKind.RENEWAL, [line], buyer, due_date=service.next_due_date
        )
        guard = Guard(
            GuardKind.RENEWAL,
            (service.service_id, period.start.isoformat()),
            {"account_id": service.account_id, "invoice_id": draft.invoice_id},
            RenewalAlreadyInvoicedError(),
        )
        return self.invoices.issue_new(draft, buyer=buyer, credit=credit, guards=[guard])

    # --- invoice.paid ---------------------------------------------------------------------------------------------
    def advance_paid(self, account_id: str, services: Sequence[Mapping[str, str]]) -> dict[str, int]:
        """Advance the next due date of each service the paid invoice renewed — once (conditional write)."""
        counts = {"advanced": 0, "unchanged": 0, "renewed": 0}
        today = self.invoices.today()
        policy = self._policy()
        for paid in services:
            period = Period(date.fromisoformat(paid["period_start"]), date.fromisoformat(paid["period_end"]))
            start, next_due = period.start, period.next_due_date
            if not self.services.advance(account_id, paid["service_id"], start, next_due):
                counts["unchanged"] += 1
                continue
            counts["advanced"] += 1
            service = self.services.service(account_id, paid["service_id"])
            if service is None or next_due - timedelta(days=policy.lead_for(service.product_id, service.cycle)) > today:
                continue
            outcome, _ = self._renew_one(service, self.batches.buyers([account_id]).get(account_id), None)
            if outcome == "issued":
                counts["renewed"] += 1
        return counts

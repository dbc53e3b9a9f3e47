"""The overview's read: one Query of ``ACCOUNT#{id}`` over ``SERVICE#…`` to ``TICKETCOUNTS`` (services, the invoice
``SUMMARY``, the ticket counts), filtered to those three kinds of item."""

from __future__ import annotations

from balcao.adapters.dynamodb import keys
from balcao.adapters.dynamodb.models import BalcaoItem, ServiceItem, SummaryItem, TicketCountsItem
from balcao.adapters.dynamodb.services import DynamoServiceStore, service_from_item
from balcao.domain.money import Currency, Money
from balcao.domain.services import Service
from balcao.services.dashboard import SHOWN_STATUSES, AccountOverview, TicketTally

OVERVIEW_ITEMS = (ServiceItem, SummaryItem, TicketCountsItem)


class DynamoOverviewReader:
    def __init__(self) -> None:
        self._services = DynamoServiceStore()

    def overview(self, account_id: str) -> AccountOverview:
        first, last = keys.overview_range()
        services = []
        summary: SummaryItem | None = None
        counts: TicketCountsItem | None = None
        for item in BalcaoItem.query(
            keys.account_pk(account_id),
            BalcaoItem.sk.between(first, last),
            filter_condition=BalcaoItem.entity.is_in(*OVERVIEW_ITEMS),
        ):
            if isinstance(item, ServiceItem):
                service = service_from_item(item)
                if service.status in SHOWN_STATUSES:
                    services.append(service)
            elif isinstance(item, SummaryItem):
                summary = item
            elif isinstance(item, TicketCountsItem):
                counts = item
        return AccountOverview(
            services=tuple(sorted(services, key=lambda s: (s.name.casefold(), s.domain or "", s.service_id))),
            due=_due(summary),
            unpaid_invoices=_unpaid(summary),
            tickets=_tickets(counts),
        )

    def service(self, account_id: str, service_id: str) -> Service | None:
        return self._services.service(account_id, service_id)


def _due(summary: SummaryItem | None) -> tuple[Money, ...]:
    if summary is None:
        return ()
    amounts = ((summary.due_brl, Currency.BRL), (summary.due_eur, Currency.EUR))
    return tuple(Money(int(amount), currency) for amount, currency in amounts if amount)


def _unpaid(summary: SummaryItem | None) -> int:
    if summary is None:
        return 0
    counts = (summary.invoices_issued, summary.invoices_payment_pending, summary.invoices_partially_paid)
    return int(sum(count or 0 for count in counts))


def _tickets(counts: TicketCountsItem | None) -> TicketTally:
    if counts is None:
        return TicketTally()
    waiting = (counts.count_open, counts.count_customer_reply, counts.count_on_hold, counts.count_in_progress)
    answered = int(counts.count_answered or 0)
    return TicketTally(open=int(sum(c or 0 for c in waiting)) + answered, answered=answered)

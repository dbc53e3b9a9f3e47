"""The renewal run's reads and writes: services due on a day (GSI2 ``DUE#{date}`` / ``SERVICE#{id}``), the due-date
advance (conditional) and the run's checkpoint (``RENEWALS`` / ``COVERAGE``)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta

from pynamodb.exceptions import UpdateError

from balcao.adapters.dynamodb import keys
from balcao.adapters.dynamodb.models import RenewalCoverageItem, ServiceItem
from balcao.domain.cycles import BillingCycle
from balcao.domain.money import Currency, Money
from balcao.domain.renewals import RenewalCoverage
from balcao.services.ports import Clock


@dataclass(frozen=True, slots=True)
class ServiceToBill:
    """A ``BillableService`` read from a service item."""

    service_id: str
    account_id: str
    product_id: str | None
    description: str
    status: str
    cycle: BillingCycle
    price: Money
    tax_category: str | None
    next_due_date: date
    auto_renew: bool
    anchor_day: int | None = None


def service_to_bill(item: ServiceItem) -> ServiceToBill | None:
    """None for a service without billing data (nothing to renew)."""
    if not (item.cycle and item.currency and item.next_due_date) or item.price is None:
        return None
    return ServiceToBill(
        service_id=item.service_id,
        account_id=item.account_id,
        product_id=item.product_id,
        description=f"{item.name} — {item.domain}" if item.domain else item.name,
        status=item.status,
        cycle=BillingCycle(item.cycle),
        price=Money(int(item.price), Currency(item.currency)),
        tax_category=item.tax_category,
        next_due_date=date.fromisoformat(item.next_due_date),
        auto_renew=item.auto_renew is not False,
        anchor_day=int(item.anchor_day) if item.anchor_day is not None else None,
    )


class DynamoBillableServices:
    def due_on(self, day: date) -> Iterator[ServiceToBill]:
        for item in ServiceItem.by_gsi2.query(
            keys.gsi2_due_pk(day.isoformat()), ServiceItem.gsi2sk.startswith(keys.SERVICE_PREFIX)
        ):
            found = service_to_bill(item) if isinstance(item, ServiceItem) else None
            if found is not None:
                yield found

    def service(self, account_id: str, service_id: str) -> ServiceToBill | None:
        try:
            item = ServiceItem.get(keys.account_pk(account_id), keys.service_sk(service_id), consistent_read=True)
        except ServiceItem.DoesNotExist:
            return None
        return service_to_bill(item)

    def advance(self, account_id: str, service_id: str, from_due: date, to_due: date) -> bool:
        try:
            ServiceItem(pk=keys.account_pk(account_id), sk=keys.service_sk(service_id)).update(
                actions=[
                    ServiceItem.next_due_date.set(to_due.isoformat()),
                    ServiceItem.gsi2pk.set(keys.gsi2_due_pk(to_due.isoformat())),
                    ServiceItem.gsi2sk.set(keys.gsi2_service_sk(service_id)),
                    ServiceItem.revision.add(1),  # the services capability's optimistic lock
                ],
                condition=ServiceItem.next_due_date == from_due.isoformat(),
            )
        except UpdateError as error:
            if error.cause_response_code == "ConditionalCheckFailedException":
                return False
            raise
        return True


class DynamoRenewalCoverage:
    def __init__(self, clock: Clock) -> None:
        self._clock = clock

    def load(self) -> RenewalCoverage:
        try:
            item = RenewalCoverageItem.get(keys.renewal_coverage_pk(), keys.COVERAGE, consistent_read=True)
        except RenewalCoverageItem.DoesNotExist:
            return RenewalCoverage()
        return RenewalCoverage({int(lead): date.fromisoformat(day) for lead, day in (item.covered or {}).items()})

    def save(self, coverage: RenewalCoverage) -> None:
        """Merged with what is stored (a concurrent run may have covered more): a checkpoint only moves forward."""
        stored = self.load().covered
        merged = dict(stored)
        for lead, day in coverage.covered.items():
            merged[lead] = max(day, stored.get(lead, day - timedelta(days=1)))
        RenewalCoverageItem(
            pk=keys.renewal_coverage_pk(),
            sk=keys.COVERAGE,
            covered={str(lead): day.isoformat() for lead, day in sorted(merged.items())},
            updated_at=self._clock.now(),
        ).save()

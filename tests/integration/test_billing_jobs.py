"""Billing's jobs and consumers: the renewal run (once per service period, catch-up from the checkpoint, concurrent
runs, failures kept for the next run), the paid renewal's due-date advance, unpaid add funds, late fees."""

from __future__ import annotations

import threading
from datetime import date

from balcao.adapters.dynamodb import keys
from balcao.adapters.dynamodb.models import InvoiceItem, LookupItem, RenewalCoverageItem, ServiceItem
from balcao.domain.events import DomainEvent
from balcao.domain.invoices import Invoice
from balcao.domain.money import Money
from balcao.runtime.invoices_composition import invoices
from balcao.services.invoices import Invoices
from support.billing import given_issued_invoice, given_service, service_due_date
from support.events import api_event, json_body
from support.identity import given_account, given_session, given_staff
from support.pipeline import Pipeline


def run(invoke, job: str) -> dict[str, int]:
    result = invoke("billing_jobs", {"job": job})
    assert result["job"] == job
    return result["counts"]


def account_invoices(account_id: str) -> list[Invoice]:
    from balcao.adapters.dynamodb.invoices import invoice_from_item

    items = InvoiceItem.query(keys.account_pk(account_id), InvoiceItem.sk.startswith(keys.INVOICE_PREFIX))
    return sorted((invoice_from_item(i) for i in items), key=lambda i: i.invoice_id)


def patch_settings(invoke, patch) -> None:
    response = invoke("settings", api_event("PATCH", "/api/staff/settings", body=patch, claims=given_staff().claims))
    assert response["statusCode"] == 200, response["body"]


def renewals_of(account_id: str) -> list[Invoice]:
    return [i for i in account_invoices(account_id) if i.kind.value == "renewal"]


def test_the_run_issues_each_renewal_once_and_catches_up_missed_days(aws, invoke, clock):
    # Given (today 2026-11-22, lead 14 days) services due inside and beyond today's window
    account = given_account("owner")
    inside = given_service(account, date(2026, 12, 6))
    early = given_service(account, date(2026, 11, 30), cycle="annual", price=47900)
    later = [given_service(account, date(2026, 12, 7)), given_service(account, date(2026, 12, 9))]
    beyond = given_service(account, date(2026, 12, 10))
    # When the run goes
    first = run(invoke, "renewals")
    # Then the services due by 2026-12-06 are invoiced for their next period, numbered, due on their due date
    assert first["issued"] == 2 and first["failed"] == 0
    by_service = {i.lines[0].service_id: i for i in renewals_of(account)}
    assert set(by_service) == {inside, early}
    monthly = by_service[inside]
    assert monthly.number is not None and monthly.due_date == date(2026, 12, 6)
    assert (monthly.lines[0].period_start, monthly.lines[0].period_end) == (date(2026, 12, 6), date(2027, 1, 5))
    assert by_service[early].lines[0].period_end == date(2027, 11, 29) and by_service[early].total == Money.of(
        47900, "BRL"
    )
    assert (
        LookupItem.get(keys.renewal_guard_pk(inside, "2026-12-06"), keys.LOOKUP).target["invoice_id"]
        == monthly.invoice_id
    )
    # And a second run at the same clock issues nothing
    assert run(invoke, "renewals")["issued"] == 0 and len(renewals_of(account)) == 2
    # And after three days without runs, one run catches up the three missed days
    clock.advance(days=3)
    caught_up = run(invoke, "renewals")
    assert caught_up["issued"] == 2 and caught_up["days"] == 3
    assert {i.lines[0].service_id for i in renewals_of(account)} == {inside, early, *later}
    assert beyond not in {i.lines[0].service_id for i in renewals_of(account)}
    assert RenewalCoverageItem.get(keys.renewal_coverage_pk(), keys.COVERAGE).covered == {"14": "2026-12-09"}


def test_concurrent_runs_issue_each_service_period_once(aws, invoke, clock):
    # Given 12 services due within the window
    # When three runs go at once, each in its own container
    account = given_account("owner")
    services = {given_service(account, date(2026, 12, 1 + n % 6)) for n in range(12)}
    counts: list[dict[str, int]] = []
    runs = [threading.Thread(target=lambda n=n: counts.append(run(invoke_copy(n), "renewals"))) for n in range(3)]
    for thread in runs:
        thread.start()
    for thread in runs:
        thread.join()
    renewed = renewals_of(account)
    # Then each service period is invoiced once, numbered 1 to 12
    assert sorted(i.lines[0].service_id for i in renewed) == sorted(services)
    assert sum(c["issued"] for c in counts) == 12 and all(c["failed"] == 0 for c in counts)
    numbers = sorted(int(i.number.rsplit("-", 1)[1]) for i in renewed if i.number)
    assert numbers == list(range(1, 13))


def invoke_copy(instance: int):
    """Another container of the jobs function (each run on its own copy of the module)."""
    from devstack import template
    from devstack.gateway import LambdaContext

    handler = template.handler_of(template.functions()["BillingJobsFunction"], instance + 1)
    return lambda _folder, event: handler(event, LambdaContext("BillingJobsFunction"))


def test_a_failed_renewal_keeps_its_day_for_the_next_run(aws, invoke, clock, monkeypatch):
    # Given two services due the same day, and the first issue attempt failing (a fault at the store's seam)
    account = given_account("owner")
    first, second = given_service(account, date(2026, 12, 2)), given_service(account, date(2026, 12, 2))
    failures = []
    original = Invoices.issue_new

    def failing_once(self, draft, **options):
        if not failures:
            failures.append(draft.lines[0].service_id)
            raise RuntimeError("DynamoDB throttled the transaction")
        return original(self, draft, **options)

    monkeypatch.setattr(Invoices, "issue_new", failing_once)
    # When the run goes
    counts = run(invoke, "renewals")
    # Then the other renewal is issued and the day stays uncovered
    assert counts["failed"] == 1 and counts["issued"] == 1
    assert RenewalCoverageItem.get(keys.renewal_coverage_pk(), keys.COVERAGE).covered == {"14": "2026-12-01"}
    # And the next run issues the missing one, without repeating the other
    again = run(invoke, "renewals")
    assert again["issued"] == 1 and again["already"] == 1
    assert sorted(i.lines[0].service_id for i in renewals_of(account)) == sorted([first, second])


def test_cancelled_and_non_renewing_services_are_skipped_and_leads_follow_the_product(aws, invoke, clock):
    # Given a 30-day lead for product vps, and services cancelled, ending, suspended and due later
    # When the run goes
    account = given_account("owner")
    patch_settings(invoke, {"invoices": {"renewal_lead_overrides": [{"product_id": "vps", "lead_days": 30}]}})
    cancelled = given_service(account, date(2026, 12, 1), status="cancelled")
    ending = given_service(account, date(2026, 12, 1), auto_renew=False)
    suspended = given_service(account, date(2026, 12, 1), status="suspended")
    vps_inside = given_service(account, date(2026, 12, 20), product_id="vps")
    hosting_outside = given_service(account, date(2026, 12, 20))
    counts = run(invoke, "renewals")
    renewed = {i.lines[0].service_id for i in renewals_of(account)}
    # Then the suspended service and the vps one are renewed; the others are not
    assert renewed == {suspended, vps_inside}
    assert not renewed & {cancelled, ending, hosting_outside} and counts["skipped"] == 2


def test_credit_pays_renewals_in_the_run(aws, invoke, clock):
    # Given R$ 30,00 of credit and two renewals of R$ 20,00
    # When the run goes
    account = given_account("owner")
    invoices().add_credit(account, Money.of(3000, "BRL"), "Cortesia")
    given_service(account, date(2026, 12, 1), price=2000)
    given_service(account, date(2026, 12, 2), price=2000)
    run(invoke, "renewals")
    [first, second] = sorted(renewals_of(account), key=lambda i: i.due_date)
    # Then the credit pays the first in full and the second in part
    assert first.status.value == "paid" and second.amount_paid == Money.of(1000, "BRL")
    assert invoices().store.credit(account).balance == Money.of(0, "BRL")


def test_a_catch_up_run_reads_each_account_once_however_many_days_it_renews_on(aws, invoke, clock):
    from support.ddb import count_dynamodb_calls

    # Given two accounts, one renewing on three days of the window and the other on one of them
    often, once = given_account("owner"), given_account("owner")
    for day in (1, 2, 3):
        given_service(often, date(2026, 12, day))
    given_service(once, date(2026, 12, 2))
    # When one run renews them all
    with count_dynamodb_calls() as calls:
        counts = run(invoke, "renewals")
    # Then both accounts' buyers and credit balances were read in one batch each, on the first day they renew
    assert counts["issued"] == 4
    assert calls.operations.count("BatchGetItem") == 4  # day 1: one account; day 2: the other; buyers and credits


def test_paying_a_renewal_advances_the_due_date_once(aws, invoke, clock):
    # Given a renewal issued for a monthly service due 2026-12-06
    account = given_account("owner")
    service = given_service(account, date(2026, 12, 6))
    run(invoke, "renewals")
    [renewal] = renewals_of(account)
    # When it is paid and the events flow
    staff = given_staff("staff_finance")
    paid = invoke(
        "billing",
        api_event(
            "POST",
            f"/api/staff/invoices/{renewal.invoice_id}/payments",
            resource="/api/staff/invoices/{invoice_id}/payments",
            body={"amount": renewal.total.to_json()},
            claims=staff.claims,
        ),
    )
    assert json_body(paid)["invoice"]["status"] == "paid"
    Pipeline(aws, invoke).run()
    # Then the service is due one period later, in the index too
    assert service_due_date(account, service) == "2027-01-06"
    item = ServiceItem.get(keys.account_pk(account), keys.service_sk(service))
    assert item.gsi2pk == keys.gsi2_due_pk("2027-01-06")
    # And the same event delivered again changes nothing
    event = DomainEvent(
        "E1",
        "invoice.paid",
        clock.now(),
        account,
        data={"services": [{"service_id": service, "period_start": "2026-12-06", "period_end": "2027-01-05"}]},
    )
    assert invoke("billing_due_dates", sqs_event(event)) == {"batchItemFailures": []}
    assert service_due_date(account, service) == "2027-01-06"


def test_a_renewal_paid_very_late_issues_the_next_one_at_once(aws, invoke, clock):
    # Given a renewal for the period from 2026-12-06
    account = given_account("owner")
    service = given_service(account, date(2026, 12, 6))
    run(invoke, "renewals")
    [renewal] = renewals_of(account)
    # When it is paid on 2026-12-28, when the next period's window (from 2026-12-23) is already open
    clock.set("2026-12-28T12:00:00Z")
    invoices().record_payment(renewal.invoice_id, renewal.total, None, "late-transfer")
    Pipeline(aws, invoke).run()
    # Then the next renewal is issued right away, for the period from 2027-01-06
    periods = sorted(i.lines[0].period_start for i in renewals_of(account))
    assert periods == [date(2026, 12, 6), date(2027, 1, 6)]
    assert service_due_date(account, service) == "2027-01-06"


def sqs_event(event: DomainEvent) -> dict:
    import json

    envelope = {"detail-type": event.type, "detail": event.to_json()}
    return {
        "Records": [
            {
                "messageId": "m1",
                "receiptHandle": "r",
                "body": json.dumps(envelope),
                "attributes": {},
                "messageAttributes": {},
                "md5OfBody": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:eu-west-1:123456789012:billing-due-dates",
                "awsRegion": "eu-west-1",
            }
        ]
    }


def test_unpaid_add_funds_are_cancelled_after_their_due_date_unless_a_payment_is_pending(aws, invoke, clock):
    # Given two add-funds invoices, one with a boleto in flight
    # When the job runs before and after their due date
    owner = given_session("owner", "owner@example.com")
    account = given_account(owner.user_id)
    service = invoices()
    waiting = service.add_funds(account, Money.of(5000, "BRL"))
    pending = service.add_funds(account, Money.of(6000, "BRL"))
    from balcao.domain.invoice_document import PaymentMethod

    service.mark_payment_pending(account, pending.invoice_id, PaymentMethod.BOLETO, {"boleto_digitable_line": "1"})
    # Then only the one without a pending payment is cancelled, and only after
    assert run(invoke, "unpaid_funds") == {"cancelled": 0, "skipped": 0, "failed": 0}
    clock.advance(days=8)
    assert run(invoke, "unpaid_funds") == {"cancelled": 1, "skipped": 1, "failed": 0}
    statuses = {i.invoice_id: i.status.value for i in account_invoices(account)}
    assert statuses == {waiting.invoice_id: "cancelled", pending.invoice_id: "payment_pending"}


def test_late_fees_are_one_separate_invoice_per_overdue_invoice_capped_for_brazilian_consumers(aws, invoke, clock):
    # Given late fees of 10 % after 5 days, a Brazilian consumer and an overdue invoice of R$ 200,00
    patch_settings(invoke, {"invoices": {"late_fee": {"enabled": True, "after_days": 5, "percent": "10"}}})
    account = given_account("owner")
    overdue = given_issued_invoice(account, amount=20000, due_date=date(2026, 11, 10))
    recent = given_issued_invoice(account, amount=20000, due_date=date(2026, 11, 20))
    # When the job runs twice
    first = run(invoke, "late_fees")
    second = run(invoke, "late_fees")
    # Then one late-fee invoice exists, for 2 % (CDC art. 52 §1), referring to the overdue invoice
    fees = [i for i in account_invoices(account) if i.kind.value == "late_fee"]
    assert first["issued"] == 1 and second == {"issued": 0, "already": 1, "skipped": 0, "failed": 0}
    [fee] = fees
    assert fee.total == Money.of(400, "BRL") and fee.refers_to == overdue.invoice_id
    assert fee.lines[0].description == f"Multa por atraso da fatura {overdue.number}"
    # And the overdue invoice never changed; the recent one has no fee yet
    assert invoices().store.invoice(account, overdue.invoice_id).version == 1
    assert all(f.refers_to != recent.invoice_id for f in fees)

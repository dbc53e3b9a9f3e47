"""The renewal run over ``due_services`` due services against a raw loop of the same TransactWrites.

In-process on moto with the fast-transactions hook, without the workflow starter (no consumer runs: moto keeps two
threads per waiting execution). The services are spread over seven due dates inside the renewal window, so one run
covers them all and each day is one of seven samples:

1. seed the accounts and services (batch writes), snapshot the table;
2. ``renewals().run()`` as the job does, timing each due day and capturing every TransactWriteItems request;
3. restore the snapshot and replay the captured requests with a plain boto3 client, timed per day — the same
   items and the same conditions, nothing else.

The figure is the median of the seven per-day ratios (run time / raw time); the whole-run ratio is reported too.

``python -m bench.renewal RESULT.json``
"""

from __future__ import annotations

import sys
import time
from datetime import date, timedelta
from typing import Any

from bench.common import Sizes, fake_aws_environment, median, not_measured, progress, use_test_support, write_result
from bench.inprocess import moto_world, restore, table_snapshot

DAYS = 7
FIRST_DUE = date(2026, 11, 30)  # the fixed clock is 2026-11-22; the 14-day window reaches 2026-12-06
SERVICES_PER_ACCOUNT = 5


def seed(count: int) -> list[date]:
    from balcao.adapters.dynamodb import keys
    from balcao.adapters.dynamodb.accounts import account_item, member_item
    from balcao.adapters.dynamodb.models import ServiceItem
    from balcao.domain.accounts import ALL_PERMISSIONS, AccountProfile, Membership, Role
    from balcao.domain.ids import new_ulid
    from support.identity import NOW

    days = [FIRST_DUE + timedelta(days=n) for n in range(DAYS)]
    accounts = [new_ulid() for _ in range(max(1, count // SERVICES_PER_ACCOUNT))]
    with ServiceItem.batch_write() as batch:
        for index, account_id in enumerate(accounts):
            owner = f"owner-{index}"
            profile = AccountProfile(
                account_id=account_id,
                name=f"Conta {index}",
                language="pt-BR",
                currency="BRL",
                notice_email=f"owner{index}@example.com",
                owner_user_id=owner,
                created_at=NOW,
            )
            batch.save(account_item(profile))
            batch.save(member_item(Membership(account_id, owner, Role.OWNER, ALL_PERMISSIONS, profile.name), NOW))
        for index in range(count):
            service_id = new_ulid()
            account_id = accounts[index % len(accounts)]
            due = days[index % DAYS].isoformat()
            batch.save(
                ServiceItem(
                    pk=keys.account_pk(account_id),
                    sk=keys.service_sk(service_id),
                    gsi2pk=keys.gsi2_due_pk(due),
                    gsi2sk=keys.gsi2_service_sk(service_id),
                    service_id=service_id,
                    account_id=account_id,
                    name="Hospedagem Profissional",
                    domain=f"cliente{index}.com.br",
                    status="active",
                    product_id="hosting-pro",
                    cycle="monthly",
                    price=4990,
                    currency="BRL",
                    tax_category="hosting",
                    next_due_date=due,
                    auto_renew=True,
                )
            )
    return days


def timed_run(days: list[date]) -> tuple[dict[str, int], dict[date, float], dict[date, list[dict[str, Any]]], float]:
    """The renewal run as the job runs it; seconds per due day and the TransactWriteItems requests of each day."""
    from botocore.client import BaseClient

    from balcao.adapters.dynamodb.renewals import DynamoBillableServices
    from balcao.runtime.invoices_composition import renewals

    marks: list[tuple[date, float]] = []
    requests: dict[date, list[dict[str, Any]]] = {}
    original_due_on = DynamoBillableServices.due_on
    original_call = BaseClient._make_api_call

    def due_on(self: Any, day: date) -> Any:
        marks.append((day, time.perf_counter()))
        return original_due_on(self, day)

    def capturing(self: Any, operation_name: str, api_params: dict[str, Any]) -> Any:
        if operation_name == "TransactWriteItems" and marks:
            requests.setdefault(marks[-1][0], []).append(api_params)  # botocore does not change them
        return original_call(self, operation_name, api_params)

    DynamoBillableServices.due_on = due_on  # type: ignore[method-assign]
    BaseClient._make_api_call = capturing
    try:
        started = time.perf_counter()
        counts = renewals().run()
        finished = time.perf_counter()
    finally:
        DynamoBillableServices.due_on = original_due_on  # type: ignore[method-assign]
        BaseClient._make_api_call = original_call
    per_day: dict[date, float] = {}
    for index, (day, at) in enumerate(marks):
        end = marks[index + 1][1] if index + 1 < len(marks) else finished
        per_day[day] = per_day.get(day, 0.0) + end - at
    return counts, {d: per_day.get(d, 0.0) for d in days}, requests, finished - started


def raw_loop(days: list[date], requests: dict[date, list[dict[str, Any]]]) -> dict[date, float]:
    import boto3

    client = boto3.client("dynamodb")
    per_day = {}
    for day in days:
        started = time.perf_counter()
        for params in requests.get(day, []):
            client.transact_write_items(**params)
        per_day[day] = time.perf_counter() - started
    return per_day


def measure(sizes: Sizes) -> dict[str, Any]:
    fake_aws_environment()
    use_test_support()
    with moto_world():
        progress(f"renewal run: seeding {sizes.due_services} due services over {DAYS} due dates")
        days = seed(sizes.due_services)
        snapshot = table_snapshot()
        progress(f"renewal run: renewals().run() over {sizes.due_services} due services")
        counts, run_days, requests, run_total = timed_run(days)
        transactions = sum(len(r) for r in requests.values())
        if counts.get("issued") != sizes.due_services or transactions != sizes.due_services:
            return {
                "renewal": not_measured(
                    f"the run issued {counts.get('issued')} of {sizes.due_services} renewals in {transactions} "
                    f"transactions ({counts})"
                )
            }
        progress(f"renewal run: raw loop of the same {transactions} TransactWriteItems")
        restore(snapshot)
        raw_days = raw_loop(days, requests)
    actions = [len(r["TransactItems"]) for day in days for r in requests.get(day, [])]
    ratios = [run_days[d] / raw_days[d] for d in days if raw_days[d] > 0]
    raw_total = sum(raw_days.values())
    return {
        "renewal": {
            "measured": True,
            "due_services": sizes.due_services,
            "counts": counts,
            "transactions": transactions,
            "actions_per_transaction": median(actions),
            "run_seconds": run_total,
            "raw_seconds": raw_total,
            "ratio_whole_run": run_total / raw_total if raw_total else float("nan"),
            "ratio_median_of_days": median(ratios),
            "per_day": [
                {
                    "due": d.isoformat(),
                    "run_seconds": run_days[d],
                    "raw_seconds": raw_days[d],
                    "transactions": len(requests.get(d, [])),
                }
                for d in days
            ],
            "run_ms_per_service": run_total / sizes.due_services * 1000,
        }
    }


def main(argv: list[str]) -> int:
    write_result(argv[0], measure(Sizes.from_environment()))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

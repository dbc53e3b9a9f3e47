"""Acceptance of the webhooks under load, in-process: a storm of 1,000 deliveries for 100 invoices (30 % duplicates,
shuffled, 10 % bad signatures, short and over amounts, Stripe and Mercado Pago mixed) settles every invoice exactly
as API.md says with the ledger balanced to the cent; and card and PIX payments for the same invoice at once give one
"paid" transition, the other becoming flagged credit. Four handler "containers" run concurrently, like the
devstack's."""

from __future__ import annotations

import json
import random
import threading
import uuid
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import pytest

from balcao.adapters.dynamodb import keys
from balcao.adapters.dynamodb.models import (
    CreditBalanceItem,
    InvoiceItem,
    OutboxItem,
    PaymentFlagItem,
    PaymentItem,
    SummaryItem,
)
from balcao.adapters.payments import sandbox
from balcao.runtime.invoices_composition import invoices
from devstack import hooks, template
from devstack.gateway import LambdaContext
from support.billing import given_issued_invoice, ledger_sum
from support.identity import given_account, given_session
from support.payments import intent_event, mercadopago_webhook, stripe_header, stripe_webhook

pytestmark = pytest.mark.slow

CONTAINERS = 4
READS = {"GetItem", "Query", "BatchGetItem", "TransactGetItems"}


@dataclass
class Delivery:
    event: dict[str, Any]
    bad: bool = False


class Containers:
    """Up to four instances of the webhooks function (a Powertools resolver serves one request at a time)."""

    def __init__(self) -> None:
        self.modules = [template.load_function_module("webhooks", instance) for instance in range(CONTAINERS)]
        hooks.install_metrics_take_turns()  # the containers share this interpreter's Powertools metrics store
        self.free = list(range(CONTAINERS))
        self.lock = threading.Lock()

    def invoke(self, event: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            instance = self.free.pop()
        try:
            return self.modules[instance].lambda_handler(event, LambdaContext("webhooks"))
        finally:
            with self.lock:
                self.free.append(instance)


def mp_payment(ref: str, account_id: str, invoice_id: str, amount: int) -> None:
    """What Mercado Pago's payment API answers for ``ref`` (locally: the sandbox's recorded payment)."""
    sandbox.record(
        ref,
        status="approved",
        currency_id="BRL",
        transaction_amount=f"{amount / 100:.2f}",
        payment_type_id="bank_transfer",
        metadata={"account_id": account_id, "invoice_ids": invoice_id},
    )


def stripe_events(intent: str, account_id: str, invoice_id: str, amount: int) -> list[dict[str, Any]]:
    """What Stripe sends around one card payment: two types we ignore, then the success."""
    created = intent_event(
        "payment_intent.created", intent_id=intent, amount=amount, invoice_id=invoice_id, account_id=account_id
    )
    charge = {
        "id": f"evt_{uuid.uuid4().hex[:24]}",
        "object": "event",
        "type": "charge.succeeded",
        "data": {
            "object": {
                "id": f"ch_{uuid.uuid4().hex[:10]}",
                "payment_intent": intent,
                "amount": amount,
                "currency": "brl",
            }
        },
    }
    succeeded = intent_event(
        "payment_intent.succeeded", intent_id=intent, amount=amount, invoice_id=invoice_id, account_id=account_id
    )
    return [stripe_webhook(created), stripe_webhook(charge), stripe_webhook(succeeded)]


def bad_copy(delivery: dict[str, Any], way: int) -> dict[str, Any]:
    """The same delivery with a bad signature: another secret, a stale timestamp, a tampered body or none."""
    copy = json.loads(json.dumps(delivery))
    headers = copy["headers"]
    if "Stripe-Signature" in headers:
        body = copy["body"]
        headers["Stripe-Signature"] = [
            stripe_header(body, secret="whsec_not_ours"),
            stripe_header(body, timestamp=1_700_000_000),
            "",
            stripe_header(body).replace("v1=", "v0="),
        ][way % 4]
        if way % 4 == 2:
            copy["body"] = body + " "  # one byte more: still JSON, no longer what was signed
            headers["Stripe-Signature"] = stripe_header(body)
    else:
        ts, v1 = headers["x-signature"].split(",")
        headers["x-signature"] = [f"{ts},v1={'0' * 64}", f"{ts},v1={v1[3:-1]}x", "", f"ts=1,{v1}"][way % 4]
    copy["multiValueHeaders"] = {k: [v] for k, v in headers.items()}
    return copy


def test_a_storm_of_1000_deliveries_settles_100_invoices_exactly_once(aws, ddb_calls):
    # Given 100 issued invoices over 10 accounts
    sandbox.forget_all()
    rng = random.Random(20261122)
    accounts = []
    for n in range(10):
        owner = given_session(f"storm-owner-{n}", f"storm{n}@example.com")
        accounts.append(given_account(owner.user_id, name=f"Loja {n}", email=owner.email))
    invoices = [given_issued_invoice(accounts[i % 10], 5000 + 37 * i) for i in range(100)]
    # And the payments each receives: exact, short then completed by PIX, over (to credit), or short only (PIX)
    unique: list[dict[str, Any]] = []
    paid_by: dict[str, list[int]] = defaultdict(list)
    for i, invoice in enumerate(invoices):
        total, account, invoice_id = invoice.total.amount, invoice.account_id, invoice.invoice_id
        plan = {
            0: [("stripe", total)],
            1: [("stripe", total * 40 // 100), ("mp", total - total * 40 // 100)],
            2: [("stripe", total + 1234)],
            3: [("mp", total // 2)],
        }[i % 4]
        for provider, amount in plan:
            paid_by[invoice_id].append(amount)
            if provider == "stripe":
                unique += stripe_events(f"pi_storm_{uuid.uuid4().hex[:16]}", account, invoice_id, amount)
            else:
                ref = f"mp_storm_{uuid.uuid4().hex[:12]}"
                mp_payment(ref, account, invoice_id, amount)
                unique += [mercadopago_webhook(ref) for _ in range(3)]  # created, updated, updated again
        # and noise that changes nothing: a declined attempt, a customer update, a merchant order notification
        unique.append(
            stripe_webhook(
                intent_event(
                    "payment_intent.payment_failed",
                    intent_id=f"pi_declined_{i}",
                    amount=total,
                    invoice_id=invoice_id,
                    account_id=account,
                    error_code="card_declined",
                )
            )
        )
        unique.append(
            stripe_webhook(
                {
                    "id": f"evt_{uuid.uuid4().hex[:24]}",
                    "object": "event",
                    "type": "customer.updated",
                    "data": {"object": {"id": "cus_1"}},
                }
            )
        )
        if i % 4 == 3:
            order = json.dumps({"id": str(uuid.uuid4().int)[:12], "type": "merchant_order", "data": {"id": f"mo{i}"}})
            unique.append(mercadopago_webhook(f"mo{i}", body=order))
    assert len(unique) == 600, len(unique)
    # And the storm: 600 unique, 300 duplicates and 100 bad signatures, shuffled
    deliveries = [Delivery(e) for e in unique]
    deliveries += [Delivery(json.loads(json.dumps(rng.choice(unique)))) for _ in range(300)]
    deliveries += [Delivery(bad_copy(rng.choice(unique), way), bad=True) for way in range(100)]
    rng.shuffle(deliveries)
    assert len(deliveries) == 1000

    containers = Containers()

    def deliver(delivery: Delivery) -> tuple[Delivery, int, list[str]]:
        with ddb_calls() as calls:
            response = containers.invoke(delivery.event)
        return delivery, response["statusCode"], list(calls.operations)

    # When they all arrive, four at a time
    with ThreadPoolExecutor(CONTAINERS) as pool:
        results = list(pool.map(deliver, deliveries))

    # Then every bad signature is 401 with nothing written; everything else is 200
    for delivery, status, operations in results:
        if delivery.bad:
            assert status == 401
            assert not [op for op in operations if op not in READS], operations
        else:
            assert status == 200, status
    # And each invoice is settled exactly as API.md says
    credit: dict[str, int] = defaultdict(int)
    for invoice in invoices:
        item = InvoiceItem.get(keys.account_pk(invoice.account_id), keys.invoice_sk(invoice.invoice_id))
        received = sum(paid_by[invoice.invoice_id])
        total = invoice.total.amount
        if received >= total:
            assert (item.status, item.amount_due, item.amount_paid) == ("paid", 0, total), invoice.invoice_id
            credit[invoice.account_id] += received - total
        else:
            assert (item.status, item.amount_due) == ("partially_paid", total - received), invoice.invoice_id
    # And one payment per distinct provider payment, one "paid" transition per paid invoice
    distinct = sum(len(amounts) for amounts in paid_by.values())
    payments = [
        p for a in accounts for p in PaymentItem.query(keys.account_pk(a), PaymentItem.sk.startswith("PAYMENT#"))
    ]
    assert len(payments) == distinct
    paid_events = Counter(
        item.event["data"]["invoice_id"]
        for a in accounts
        for item in OutboxItem.query(keys.account_pk(a), OutboxItem.sk.startswith("OUTBOX#"))
        if item.event["type"] == "invoice.paid"
    )
    assert set(paid_events.values()) == {1}
    assert len(paid_events) == sum(1 for i in invoices if sum(paid_by[i.invoice_id]) >= i.total.amount)
    # And the ledger is balanced to the cent: entries = balance = expected excess, per account; summaries agree
    for account in accounts:
        assert ledger_sum(account) == credit[account]
        balance = CreditBalanceItem.get(keys.account_pk(account), keys.CREDIT_BALANCE).amount if credit[account] else 0
        assert balance == credit[account]
        open_due = sum(
            i.total.amount - sum(paid_by[i.invoice_id])
            for i in invoices
            if i.account_id == account and sum(paid_by[i.invoice_id]) < i.total.amount
        )
        assert (SummaryItem.get(keys.account_pk(account), keys.SUMMARY).due_brl or 0) == open_due
    # And nothing was flagged: every excess here landed on an open invoice
    assert list(PaymentFlagItem.by_gsi3.query(keys.QUEUE_PAYMENT_FLAGS)) == []


def test_card_and_pix_for_the_same_invoice_at_once_pay_it_once_and_the_other_is_flagged_credit(aws):
    # Given ten invoices, each about to receive a card payment and a PIX payment at the same moment
    sandbox.forget_all()
    owner = given_session("race-owner", "race@example.com")
    account = given_account(owner.user_id, email=owner.email)
    invoices().set_auto_apply(account, False)  # the credit of earlier rounds must not pay the next invoice
    containers = Containers()
    for round_ in range(10):
        invoice = given_issued_invoice(account, 4990)
        card = stripe_webhook(
            intent_event(
                "payment_intent.succeeded",
                intent_id=f"pi_race_{round_}",
                amount=4990,
                invoice_id=invoice.invoice_id,
                account_id=account,
            )
        )
        ref = f"mp_race_{round_}"
        mp_payment(ref, account, invoice.invoice_id, 4990)
        pix = mercadopago_webhook(ref)
        start = threading.Barrier(2)

        def arrive(event: dict[str, Any], barrier: threading.Barrier = start) -> int:
            barrier.wait()
            return containers.invoke(event)["statusCode"]

        # When both arrive at once
        with ThreadPoolExecutor(2) as pool:
            statuses = list(pool.map(arrive, [card, pix]))
        # Then both are answered 200, the invoice is paid once and the second payment is credit
        assert statuses == [200, 200]
        item = InvoiceItem.get(keys.account_pk(account), keys.invoice_sk(invoice.invoice_id))
        assert (item.status, item.amount_paid) == ("paid", 4990)
    # And across the rounds: never two "paid" transitions, ten payments as credit, each flagged as an overpayment
    paid = Counter(
        o.event["data"]["invoice_id"]
        for o in OutboxItem.query(keys.account_pk(account), OutboxItem.sk.startswith("OUTBOX#"))
        if o.event["type"] == "invoice.paid"
    )
    assert len(paid) == 10 and set(paid.values()) == {1}
    assert ledger_sum(account) == 10 * 4990
    flags = list(PaymentFlagItem.by_gsi3.query(keys.QUEUE_PAYMENT_FLAGS))
    assert len(flags) == 10 and {f.kind for f in flags} == {"overpayment"}

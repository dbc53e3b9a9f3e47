"""Idempotency-Key on money routes: same key and body → the first answer; another body → 409; a retry while the
first still runs → 409; scoped to (caller, route, path ids); refused requests are not remembered; required where a
route says so."""

from __future__ import annotations

import threading

from aws_lambda_powertools.event_handler import Response

from balcao.adapters.dynamodb import keys
from balcao.adapters.dynamodb.models import InvoiceItem
from balcao.runtime import access, idempotency
from balcao.runtime.http import rest_resolver
from balcao.services.invoices import Invoices
from devstack import template
from devstack.gateway import LambdaContext
from support.events import api_event, header, json_body
from support.identity import given_account, given_session, given_staff


def invoice_body(account_id: str, amount: int = 4990) -> dict:
    return {
        "account_id": account_id,
        "issue": True,
        "lines": [{"description": "Hospedagem", "unit_price": {"amount": amount, "currency": "BRL"}}],
    }


def create(invoke, caller, body, key):
    return invoke(
        "billing",
        api_event("POST", "/api/staff/invoices", body=body, claims=caller.claims, headers={"Idempotency-Key": key}),
    )


def invoices_of(account_id: str) -> list[InvoiceItem]:
    return list(InvoiceItem.query(keys.account_pk(account_id), InvoiceItem.sk.startswith(keys.INVOICE_PREFIX)))


def test_the_same_key_and_body_answer_the_first_answer_and_create_once(aws, invoke):
    # Given a staff invoice created with an Idempotency-Key
    staff = given_staff("staff_finance")
    account = given_account("owner")
    first = create(invoke, staff, invoice_body(account), "key-1")
    # When the same request comes again (whitespace and key order do not matter)
    again = invoke(
        "billing",
        api_event(
            "POST",
            "/api/staff/invoices",
            raw_body='{"lines": [{"unit_price": {"currency": "BRL", "amount": 4990}, "description": "Hospedagem"}],'
            f' "issue": true,   "account_id": "{account}"}}',
            claims=staff.claims,
            headers={"Idempotency-Key": "key-1"},
        ),
    )
    # Then it answers the first answer, with its status, and only one invoice exists
    assert first["statusCode"] == again["statusCode"] == 201
    assert json_body(again) == json_body(first) and header(again, "Idempotent-Replayed") == "true"
    assert len(invoices_of(account)) == 1


def test_the_same_key_with_another_body_is_a_conflict(aws, invoke):
    # Given a staff invoice created with a key
    # When the key comes again with another amount
    staff = given_staff("staff_finance")
    account = given_account("owner")
    create(invoke, staff, invoice_body(account), "key-2")
    reused = create(invoke, staff, invoice_body(account, amount=5990), "key-2")
    # Then it is a conflict and nothing more was created
    assert reused["statusCode"] == 409 and json_body(reused)["error"]["code"] == "conflict"
    assert len(invoices_of(account)) == 1


def test_keys_are_scoped_to_the_caller(aws, invoke):
    # Given two staff members
    # When each sends the same key
    account = given_account("owner")
    # Then each creates an invoice
    for role in ("staff_finance", "staff_admin"):
        assert create(invoke, given_staff(role), invoice_body(account), "shared-key")["statusCode"] == 201
    assert len(invoices_of(account)) == 2


def test_a_refused_request_is_not_remembered(aws, invoke):
    # Given an account
    # When it adds too little, again, then a valid amount, then that again, all with one key
    owner = given_session("owner", "owner@example.com")
    account = given_account(owner.user_id)
    path, resource = f"/api/accounts/{account}/credit", "/api/accounts/{account_id}/credit"

    def add(amount):
        return invoke(
            "billing",
            api_event(
                "POST",
                path,
                resource=resource,
                body={"amount": {"amount": amount, "currency": "BRL"}},
                claims=owner.claims,
                headers={"Idempotency-Key": "funds-1"},
            ),
        )

    # Then the refusals run each time, the valid one creates once and is replayed
    assert add(10)["statusCode"] == 422  # below the minimum
    assert add(10)["statusCode"] == 422  # the same request runs again (nothing was written)
    assert add(5000)["statusCode"] == 201  # the key is free for the corrected request
    replay = add(5000)
    assert replay["statusCode"] == 201 and header(replay, "Idempotent-Replayed") == "true"


def test_a_retry_while_the_first_still_runs_is_a_conflict(aws, invoke, monkeypatch):
    # Given a first request held inside its work
    staff = given_staff("staff_finance")
    account = given_account("owner")
    entered, release = threading.Event(), threading.Event()
    original = Invoices.create

    def slow_create(self, *args, **kwargs):
        entered.set()
        release.wait(10)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Invoices, "create", slow_create)
    second_container = template.handler_of(template.functions()["BillingFunction"], 7)
    results = {}

    def first_request():
        results["first"] = create(invoke, staff, invoice_body(account), "key-3")

    running = threading.Thread(target=first_request)
    running.start()
    assert entered.wait(10)
    # When the same request arrives meanwhile (another container)
    event = api_event(
        "POST",
        "/api/staff/invoices",
        body=invoice_body(account),
        claims=staff.claims,
        headers={"Idempotency-Key": "key-3"},
    )
    retry = second_container(event, LambdaContext("BillingFunction"))
    release.set()
    running.join(10)
    # Then the retry is a conflict and the first one completes
    assert retry["statusCode"] == 409
    assert results["first"]["statusCode"] == 201 and len(invoices_of(account)) == 1


app = rest_resolver()


@app.post("/api/test/refunds", **access.signed_in())
def refund() -> Response[str]:
    return idempotency.once(app, lambda: Response(201, "application/json", '{"refunded": true}'), required=True)


def test_a_route_may_require_the_key(aws):
    # Given a route that requires the key
    # When it is called without one, with a bad one and with a good one
    caller = given_session("someone", "someone@example.com")
    missing = app.resolve(api_event("POST", "/api/test/refunds", body={}, claims=caller.claims), LambdaContext("test"))
    # Then the first two are refused with 422 on the header
    assert missing["statusCode"] == 422
    assert json_body(missing)["error"]["fields"][0] == {
        "field": "Idempotency-Key",
        "code": "required",
        "message": "This request needs an Idempotency-Key header.",
    }
    bad = app.resolve(
        api_event("POST", "/api/test/refunds", body={}, claims=caller.claims, headers={"Idempotency-Key": " x"}),
        LambdaContext("test"),
    )
    assert bad["statusCode"] == 422
    given = app.resolve(
        api_event("POST", "/api/test/refunds", body={}, claims=caller.claims, headers={"Idempotency-Key": "r-1"}),
        LambdaContext("test"),
    )
    assert given["statusCode"] == 201

"""Payments' acceptance, over HTTP on a devstack of its own (the clock moves): order a plan → pay its invoice with a
sandbox PIX (``/_dev/pay``: a signed webhook through the gateway) → the service is active; its renewal → the service
suspended for ``overdue`` → paid → active again, with the payment confirmation and the reactivation emails."""

from __future__ import annotations

import uuid

import pytest

from support.payments import STRIPE_SECRET, stripe_header

pytestmark = pytest.mark.slow

ORDERED_AT = "2027-03-01T15:00:00Z"  # the service starts on 1 March, due on 1 April
RENEWAL_AT = "2027-03-20T15:00:00Z"  # the renewal invoice is issued 14 days before the due date


@pytest.fixture(scope="module")
def stack(private_devstack):
    return private_devstack


def subjects(stack, email: str) -> list[str]:
    return [m["subject"] for m in stack.mail(email)]


def test_order_pix_active_then_overdue_suspension_lifted_by_payment(stack):
    # Given Bruno's account and the basic plan, on 1 March
    stack.clock(now=ORDERED_AT)
    token = stack.token("bruno@example.com")
    account = stack.get("/api/me", token=token).json()["accounts"][0]["account_id"]
    catalog = stack.get("/api/catalog/products?currency=BRL", headers={"Accept-Language": "en"}).json()["items"]
    basic = next(p for p in catalog if p["name"] == "Basic Hosting")
    domain = f"pay-{uuid.uuid4().hex[:8]}.com.br"
    ordered = stack.post(
        f"/api/accounts/{account}/orders",
        {"items": [{"product_id": basic["product_id"], "cycle": "monthly", "domain": domain}]},
        token=token,
    )
    assert ordered.status_code == 201, ordered.text
    order = ordered.json()
    [service_id] = order["service_ids"]
    service_path = f"/api/accounts/{account}/services/{service_id}"

    # When he asks for PIX: a checked BR Code with its QR code
    pix = stack.post(f"/api/accounts/{account}/invoices/{order['invoice_id']}/payments", {"method": "pix"}, token=token)
    assert pix.status_code == 201, pix.text
    assert pix.json()["pix"]["copy_paste"].startswith("000201") and pix.json()["pix"]["qr_svg"].startswith("<svg")
    # And the sandbox pays it (a signed webhook through the gateway)
    paid = stack.post(f"/_dev/pay/{order['invoice_id']}", {"outcome": "paid"})
    assert paid.status_code == 200 and paid.json() == {"invoice_id": order["invoice_id"], "status": "paid"}
    stack.settle()

    # Then the service is active
    assert stack.get(service_path, token=token).json()["status"] == "active"
    payment = stack.get(f"/api/accounts/{account}/payments/{pix.json()['payment_id']}", token=token).json()
    assert payment["status"] == "succeeded"

    # When, on 20 March, the renewal invoice is issued and the service is suspended for overdue
    stack.clock(now=RENEWAL_AT)
    assert stack.post("/_dev/jobs/renewals").status_code == 200
    token = stack.token("bruno@example.com")
    renewal = next(
        i
        for i in stack.get(f"/api/accounts/{account}/invoices?status=unpaid", token=token).json()["items"]
        if i["kind"] == "renewal"
    )
    staff = stack.staff_token()
    suspended = stack.post(f"/api/staff/services/{service_id}/suspend", {"reason": "overdue"}, token=staff)
    assert suspended.status_code == 200, suspended.text
    stack.settle()
    assert stack.get(service_path, token=token).json()["status"] == "suspended"

    # And the renewal is paid by the sandbox
    assert stack.post(f"/_dev/pay/{renewal['invoice_id']}", {"outcome": "paid"}).json()["status"] == "paid"
    stack.settle()

    # Then the service is active again, and both emails were sent
    assert stack.get(service_path, token=token).json()["status"] == "active"
    sent = subjects(stack, "bruno@example.com")
    assert any(renewal["number"] in s for s in sent), sent  # the payment confirmation of the renewal
    reactivated = [m for m in stack.mail("bruno@example.com") if domain in m["text"]]
    assert len(reactivated) >= 2, [m["subject"] for m in reactivated]  # activation, then reactivation


def test_a_failed_sandbox_card_leaves_the_invoice_open_and_webhooks_refuse_bad_signatures(stack):
    # Given an unpaid invoice of Ana's and its card payment
    token = stack.token("ana@example.com")
    account = stack.get("/api/me", token=token).json()["accounts"][0]["account_id"]
    unpaid = stack.get(f"/api/accounts/{account}/invoices?status=unpaid", token=token).json()["items"]
    invoice = next(i for i in unpaid if i["status"] == "issued")
    stack.http.put(
        stack.url(f"/api/accounts/{account}/invoices/{invoice['invoice_id']}/payment-method"),
        json={"method": "card"},
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    # When the sandbox declines it
    failed = stack.post(f"/_dev/pay/{invoice['invoice_id']}", {"outcome": "failed"})
    # Then the invoice is still open
    assert failed.status_code == 200 and failed.json()["status"] == "issued"
    # And a webhook signed with another secret is 401 through the gateway, a correct one 200
    body = '{"id":"evt_e2e_unknown","object":"event","type":"customer.updated","data":{"object":{}}}'
    wrong = stack.http.post(
        stack.url("/webhooks/stripe"),
        data=body,
        headers={"Stripe-Signature": stripe_header(body, "whsec_x")},
        timeout=30,
    )
    right = stack.http.post(
        stack.url("/webhooks/stripe"),
        data=body,
        headers={"Stripe-Signature": stripe_header(body, STRIPE_SECRET)},
        timeout=30,
    )
    assert (wrong.status_code, right.status_code) == (401, 200)
    assert wrong.json()["error"]["code"] == "unauthorized"

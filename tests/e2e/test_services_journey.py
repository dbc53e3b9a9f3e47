"""Services' acceptance, over HTTP on a devstack of its own (the clock moves): order a hosting plan → its invoice →
staff record the payment (the settlement core) → the service is active on the simulated WHM → single sign-on →
at a fixed date, an upgrade quote with the exact prorated amounts → an end-of-period cancellation carried out by
the job once the clock passes its date."""

from __future__ import annotations

import uuid

import pytest
import requests

pytestmark = pytest.mark.slow

ORDERED_AT = "2027-03-01T15:00:00Z"  # 12:00 in São Paulo: the service starts on 1 March, due on 1 April
QUOTED_AT = "2027-03-21T15:00:00Z"  # 11 of the period's 31 days left
AFTER_THE_DATE = "2027-04-01T15:00:00Z"


@pytest.fixture(scope="module")
def stack(private_devstack):
    return private_devstack


def test_order_pay_activate_sso_quote_and_cancel_at_the_end_of_the_period(stack):
    # Given Bruno's account and the catalog, on 1 March
    stack.clock(now=ORDERED_AT)
    token = stack.token("bruno@example.com")
    account = stack.get("/api/me", token=token).json()["accounts"][0]["account_id"]
    catalog = stack.get("/api/catalog/products?currency=BRL", headers={"Accept-Language": "en"}).json()["items"]
    basic = next(p for p in catalog if p["name"] == "Basic Hosting")
    pro = next(p for p in catalog if p["name"] == "Professional Hosting")
    monthly = {p["cycle"]: p["price"]["amount"] for p in basic["prices"]}["monthly"]
    assert monthly == 2990 and {p["cycle"]: p["price"]["amount"] for p in pro["prices"]}["monthly"] == 4990

    # When he orders the basic plan for a domain of his
    domain = f"e2e-{uuid.uuid4().hex[:8]}.com.br"
    body = {"items": [{"product_id": basic["product_id"], "cycle": "monthly", "domain": domain}]}
    ordered = stack.post(f"/api/accounts/{account}/orders", body, token=token)
    assert ordered.status_code == 201, ordered.text
    order = ordered.json()
    [service_id] = order["service_ids"]
    service_path = f"/api/accounts/{account}/services/{service_id}"
    assert stack.get(service_path, token=token).json()["status"] == "pending"
    invoice = stack.get(f"/api/accounts/{account}/invoices/{order['invoice_id']}", token=token).json()
    assert invoice["kind"] == "order" and invoice["amount_due"] == {"amount": 2990, "currency": "BRL"}

    # And staff record his transfer
    staff = stack.staff_token()
    paid = stack.post(
        f"/api/staff/invoices/{order['invoice_id']}/payments",
        {"amount": invoice["amount_due"], "reference": f"TED-{uuid.uuid4().hex[:6]}"},
        token=staff,
    )
    assert paid.status_code == 201, paid.text
    stack.settle()

    # Then the service is active, created on the simulated WHM, due on 1 April
    service = stack.get(service_path, token=token).json()
    assert (service["status"], service["next_due_date"]) == ("active", "2027-04-01"), service
    assert service["provisioning"]["state"] == "succeeded" and service["live"]["state"] == "active"
    assert any(service["username"] in m["text"] for m in stack.mail("bruno@example.com"))

    # And single sign-on lands in that account's control panel
    sso = stack.post(f"{service_path}/sso", token=token)
    assert sso.status_code == 200, sso.text
    landing = requests.get(sso.json()["url"], timeout=30)
    assert landing.status_code == 200 and service["username"] in landing.text and domain in landing.text

    # When, on 21 March, he quotes the professional plan
    stack.clock(now=QUOTED_AT)
    token = stack.token("bruno@example.com")  # sessions end on the application's clock too
    quote = stack.post(
        f"{service_path}/upgrade", {"product_id": pro["product_id"], "cycle": "monthly", "confirm": False}, token=token
    )
    # Then 11 of 31 days are prorated: credit 29,90 × 11/31 = 10,61; debit 49,90 × 11/31 = 17,71; due 7,10
    assert quote.status_code == 200, quote.text
    amounts = quote.json()
    assert amounts["credit"] == {"amount": 1061, "currency": "BRL"}
    assert amounts["debit"] == {"amount": 1771, "currency": "BRL"}
    assert amounts["amount_due"] == {"amount": 710, "currency": "BRL"}
    assert (amounts["days_left"], amounts["days_in_current_period"], amounts["next_due_date"]) == (
        11,
        31,
        "2027-04-01",
    )

    # When he asks to cancel at the end of the period
    cancellation = stack.post(
        f"{service_path}/cancellation", {"type": "end_of_period", "reason": "Mudança de provedor"}, token=token
    )
    assert cancellation.status_code == 201, cancellation.text
    assert cancellation.json()["cancellation"]["effective_date"] == "2027-04-01"
    stack.settle()
    assert any("2027" in m["text"] and domain in m["subject"] for m in stack.mail("bruno@example.com"))

    # Then the job leaves the service alone before the date, and cancels it once the clock passed it
    assert stack.run_job("cancellations")["counts"]["cancelled"] == 0
    stack.clock(now=AFTER_THE_DATE)
    assert stack.run_job("cancellations")["counts"]["cancelled"] >= 1
    stack.settle()
    token = stack.token("bruno@example.com")
    ended = stack.get(service_path, token=token).json()
    assert (ended["status"], ended["reason"]) == ("cancelled", "customer_request")
    assert requests.get(sso.json()["url"], timeout=30).status_code == 404  # the panel account was removed

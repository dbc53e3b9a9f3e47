"""Invoices' acceptance, over HTTP on a devstack of its own (the clock moves): the demo invoices, the PDF download,
the renewal run (idempotent, catching up missed days) and gapless numbers under concurrency (last: it leaves a
backlog of PDFs and emails behind)."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from io import BytesIO

import pytest
import requests
from pypdf import PdfReader

from balcao.adapters.dynamodb import keys
from balcao.domain.ids import new_ulid

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def stack(private_devstack):
    return private_devstack


@pytest.fixture(scope="module")
def staff(stack) -> str:
    return stack.staff_token()


def my_accounts(stack, email: str) -> tuple[str, list[str]]:
    token = stack.token(email)
    return token, [a["account_id"] for a in stack.get("/api/me", token=token).json()["accounts"]]


def test_the_demo_accounts_have_unpaid_overdue_paid_and_pending_invoices_and_credit(stack):
    # Given the demo seed
    # When Ana reads her accounts' invoices and credit
    token, [brazilian, spanish] = my_accounts(stack, "ana@example.com")
    listing = stack.get(f"/api/accounts/{brazilian}/invoices?limit=100", token=token).json()
    statuses = {(i["status"], i["is_overdue"]) for i in listing["items"]}
    # Then she sees unpaid, overdue, paid and pending invoices, the total due, credit and IVA
    assert statuses >= {("issued", False), ("issued", True), ("paid", False), ("payment_pending", False)}
    open_amount = sum(i["amount_due"]["amount"] for i in listing["items"])
    assert listing["total_due"] == [{"amount": open_amount, "currency": "BRL"}] and open_amount >= 4990 + 4000 + 8990
    credit = stack.get(f"/api/accounts/{brazilian}/credit", token=token).json()
    assert credit["balance"] == {"amount": 2500, "currency": "BRL"}
    euros = stack.get(f"/api/accounts/{spanish}/invoices?status=unpaid", token=token).json()
    assert 271 in [i["tax"]["amount"] for i in euros["items"]]  # IVA 21 % of 12,90 €


def test_the_pdf_downloads_through_a_short_lived_link(stack):
    # Given Ana's overdue invoice
    # When she downloads its PDF
    token, [brazilian, _] = my_accounts(stack, "ana@example.com")
    [overdue] = [
        i for i in stack.get(f"/api/accounts/{brazilian}/invoices", token=token).json()["items"] if i["is_overdue"]
    ]
    redirect = stack.get(
        f"/api/accounts/{brazilian}/invoices/{overdue['invoice_id']}/pdf", token=token, allow_redirects=False
    )
    # Then the redirect is short-lived and the PDF holds the number, the buyer and the amount
    assert redirect.status_code == 302
    location = redirect.headers["Location"]
    assert int(re.search(r"X-Amz-Expires=(\d+)", location).group(1)) <= 300
    pdf = requests.get(location, timeout=30)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    text = " ".join(page.extract_text() for page in PdfReader(BytesIO(pdf.content)).pages).replace("\u00a0", " ")
    assert overdue["number"] in text and "Ana Souza Design Ltda" in text and "R$ 40,00" in text


def put_service(stack, account_id: str, due: date) -> str:
    service_id = new_ulid()
    stack.aws("dynamodb").put_item(
        TableName=stack.stack["resources"]["BalcaoTable"],
        Item={
            "pk": {"S": keys.account_pk(account_id)},
            "sk": {"S": keys.service_sk(service_id)},
            "entity": {"S": "Service"},
            "gsi2pk": {"S": keys.gsi2_due_pk(due.isoformat())},
            "gsi2sk": {"S": keys.gsi2_service_sk(service_id)},
            "service_id": {"S": service_id},
            "account_id": {"S": account_id},
            "name": {"S": "Hospedagem Básica"},
            "domain": {"S": "brunolima.dev"},
            "status": {"S": "active"},
            "product_id": {"S": "hosting-basic"},
            "cycle": {"S": "monthly"},
            "price": {"N": "1990"},
            "currency": {"S": "BRL"},
            "tax_category": {"S": "hosting"},
            "next_due_date": {"S": due.isoformat()},
            "auto_renew": {"BOOL": True},
        },
    )
    return service_id


def renewals(stack, token: str, account_id: str) -> list[dict]:
    items = stack.get(f"/api/accounts/{account_id}/invoices?limit=100", token=token).json()["items"]
    return [i for i in items if i["kind"] == "renewal"]


def test_the_renewal_run_is_idempotent_and_catches_up_missed_days(stack):
    # Given Bruno's services due in 10 and 16 days
    token, [account] = my_accounts(stack, "bruno@example.com")
    today = date.fromisoformat(stack.clock()[:10])
    put_service(stack, account, today + timedelta(days=10))
    put_service(stack, account, today + timedelta(days=16))
    # When the job runs twice at the same clock
    first = stack.run_job("renewals")["counts"]
    second = stack.run_job("renewals")["counts"]
    # Then the service due within 14 days is invoiced once, and the second run issues nothing
    assert first["issued"] >= 1 and second["issued"] == 0
    assert len(renewals(stack, token, account)) == 1
    # And after three days without runs, one run catches up the service whose window opened meanwhile
    stack.clock(advance="P3D")
    caught_up = stack.run_job("renewals")["counts"]
    assert caught_up["issued"] >= 1 and caught_up["days"] == 3
    stack.settle()
    due_dates = sorted(i["due_date"] for i in renewals(stack, token, account))
    assert due_dates == [(today + timedelta(days=10)).isoformat(), (today + timedelta(days=16)).isoformat()]
    assert any("Fatura" in m["subject"] for m in stack.mail("bruno@example.com"))


def test_two_hundred_invoices_from_eight_threads_are_numbered_without_gaps(stack, staff):
    # Given a fresh series
    series = f"LOAD{new_ulid()[-6:]}"
    patched = stack.patch(
        "/api/staff/settings",
        {"invoices": {"invoice_series": {"pattern": f"{series}-{{year}}-{{number:06d}}"}}},
        token=staff,
    )
    assert patched.status_code == 200, patched.text
    _, [account] = my_accounts(stack, "bruno@example.com")
    body = {
        "account_id": account,
        "issue": True,
        "lines": [{"description": "Carga", "unit_price": {"amount": 100, "currency": "BRL"}}],
    }
    session = requests.Session()

    def issue(_: int) -> str:
        response = session.post(
            stack.url("/api/staff/invoices"), json=body, headers={"Authorization": f"Bearer {staff}"}, timeout=120
        )
        assert response.status_code == 201, response.text
        return str(response.json()["number"])

    # When 200 are issued from 8 threads
    with ThreadPoolExecutor(max_workers=8) as pool:
        numbers = list(pool.map(issue, range(200)))
    # Then they are exactly 1..200 of the series: no gap, no duplicate
    year = stack.clock()[:4]
    assert sorted(numbers) == [f"{series}-{year}-{n:06d}" for n in range(1, 201)]

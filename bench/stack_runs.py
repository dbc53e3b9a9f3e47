"""Figures on the devstack over loopback HTTP, as customers and providers reach it.

The devstack runs in its own interpreter (``python -m devstack serve --port 0``), so the load generator here does
not share its interpreter lock. In order:

1. payment webhook → service unsuspended: services ordered and paid (one paying customer a day), renewed by the
   daily renewal run, suspended for ``overdue``; then each renewal paid through the sandbox provider's signed
   webhook (``/_dev/pay``) and the time until the service reads active again — when the payments and services
   capabilities exist;
2. Step Functions transitions per dunning cycle: an invoice left unpaid while the clock walks day by day until its
   dunning execution ends — when the dunning state machine exists;
3. load: ``load_customers`` signed-in customers browse the API and the portal for ``load_seconds``, each sending its
   next request when the previous one answered (a bounded loop), errors and p95 per route. Last, because it keeps
   two processes busy (the stack and the load generator): the bench's other lane has finished by then.

Setup is not measured, so it takes the short way where that changes nothing measured: customers (their Cognito
user, user and account records) and the load customers' invoices are written by the devstack's seeding helpers
through its moto server, without the sign-up emails and without announcing the invoices (no PDF, email or dunning
workflow for them); sign-in, tickets, contacts, orders, payments and suspensions go through the API, several at once.

``python -m bench.stack_runs RESULT.json``
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import requests

from bench.common import (
    ROOT,
    Sizes,
    fake_aws_environment,
    median,
    not_measured,
    percentile,
    progress,
    use_test_support,
    write_result,
)

PASSWORD = "Bench-Passw0rd-2026!"  # noqa: S105 - the throwaway customers of the local stack
CSRF = "b" * 43
LOG = ROOT / "test-artifacts" / "bench" / "devstack.log"
# What a browsing customer asks for, in order (those the stack serves; each label is the route template).
API_BROWSING = [
    "/api/me",
    "/api/accounts/{account_id}",
    "/api/accounts/{account_id}/services",
    "/api/accounts/{account_id}/invoices",
    "/api/accounts/{account_id}/invoices/{invoice_id}",
    "/api/accounts/{account_id}/tickets",
    "/api/accounts/{account_id}/tickets/{ticket_id}",
    "/api/accounts/{account_id}/contacts",
]
PAGE_BROWSING = ["/", "/services", "/invoices", "/invoices/{invoice_id}", "/tickets", "/contacts", "/profile"]
HIGH_LIMIT = {"capacity": 100_000, "window_seconds": 60}
SETUP_THREADS = 8  # setup requests in flight at once


class Devstack:
    """A devstack of the bench's own, in a subprocess; its output goes to ``test-artifacts/bench/devstack.log``."""

    def __init__(self) -> None:
        LOG.parent.mkdir(parents=True, exist_ok=True)
        self.log = LOG.open("w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "devstack", "serve", "--port", "0"],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
            cwd=ROOT,
        )
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.log.write(line)
            found = re.search(r"running on (http://127\.0\.0\.1:\d+)", line)
            if found:
                self.url = found.group(1)
                threading.Thread(target=self._drain, name="devstack-output", daemon=True).start()
                return
        raise RuntimeError(f"the devstack did not start; see {LOG}")

    def _drain(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.log.write(line)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()


class Customer:
    """A signed-up customer with an account, a token for the API and a signed-in portal session."""

    def __init__(self, client: Any, email: str) -> None:
        self.client = client
        self.email = email
        self.token = ""
        self.account_id = ""
        self.ids: dict[str, str] = {}
        self.portal = requests.Session()

    def sign_in(self, client: Any = None) -> None:
        """A token from the API and a portal session; ``client``: the calling thread's own (default: this one's).
        Every customer here signs in from 127.0.0.1, so ``staff_setup`` raised the limits per address first."""
        client = client or self.client
        login = client.post("/api/auth/login", {"email": self.email, "password": PASSWORD})
        login.raise_for_status()
        self.token = login.json()["id_token"]
        me = client.get("/api/me", token=self.token).json()
        self.account_id = me["accounts"][0]["account_id"]
        self.ids["account_id"] = self.account_id
        self.portal.cookies.set("balcao_csrf", CSRF)
        form = {"email": self.email, "password": PASSWORD, "next": "/", "csrf_token": CSRF}
        answer = self.portal.post(client.url("/login"), data=form, allow_redirects=False, timeout=30)
        if answer.status_code not in (200, 303):
            raise RuntimeError(f"portal sign-in answered {answer.status_code}")


def staff_setup(client: Any) -> str:
    """A staff token, and the access routes' limits raised for this run (every customer comes from 127.0.0.1)."""
    token: str = client.staff_token()
    limits = {
        route: {"per_ip": HIGH_LIMIT, "per_email": HIGH_LIMIT} for route in ("signup", "confirm", "login", "reset")
    }
    limits["mfa"] = {"per_ip": HIGH_LIMIT}
    answer = client.patch("/api/staff/settings", {"rate_limits": limits}, token=token)
    answer.raise_for_status()
    return token


def in_parallel[T, R](client: Any, items: Iterable[T], work: Callable[[Any, T], R]) -> list[R]:
    """``work(a client of this thread's own, item)`` for every item, ``SETUP_THREADS`` at a time; the first error
    is raised."""
    from support.stack_client import StackClient

    local = threading.local()

    def run(item: T) -> R:
        if not hasattr(local, "client"):
            local.client = StackClient(client.base_url)
        return work(local.client, item)

    with ThreadPoolExecutor(max_workers=SETUP_THREADS) as pool:
        return list(pool.map(run, items))


def use_stack_environment(client: Any) -> None:
    """Point this interpreter's AWS clients and the application's stores at the devstack (its moto server and its
    resources), so the devstack's seeding helpers can write its data from here."""
    os.environ.update(client.stack["environment"])
    os.environ["AWS_ENDPOINT_URL"] = client.stack["aws_endpoint"]


def new_customers(client: Any, count: int, label: str) -> list[Customer]:
    """``count`` customers as a confirmed sign-up leaves them (the devstack's seeding helper), then signed in
    through the API and the portal."""
    from devstack.seed import seed_customer

    use_stack_environment(client)
    customers = []
    for index in range(count):
        email = f"{label}-{index}-{uuid.uuid4().hex[:6]}@example.com"
        seed_customer(dict(os.environ), email, f"Cliente {index}", PASSWORD)
        customers.append(Customer(client, email))

    in_parallel(client, customers, lambda own_client, customer: customer.sign_in(own_client))
    return customers


def seeded_invoice(account_id: str) -> str:
    """An issued invoice written without announcing it (as the demo seed does): browsing reads it; no PDF, email
    or dunning workflow is made for it."""
    from balcao.domain.money import Money
    from balcao.runtime.invoices_composition import invoices
    from balcao.services.invoices import LineInput

    service = invoices()
    service.announce = False
    invoice = service.create(account_id, [LineInput("Hospedagem", 1, Money.of(4990, "BRL"), "hosting")], issue=True)
    return str(invoice.invoice_id)


def give_data(client: Any, customers: list[Customer]) -> None:
    """An issued invoice, a ticket and a contact per customer (what browsing reads)."""
    use_stack_environment(client)
    for customer in customers:
        customer.ids["invoice_id"] = seeded_invoice(customer.account_id)

    def ticket_and_contact(own_client: Any, customer: Customer) -> None:
        ticket = own_client.post(
            f"/api/accounts/{customer.account_id}/tickets",
            {"department": "technical_support", "subject": "Site lento", "message": "O site está lento hoje."},
            token=customer.token,
        )
        ticket.raise_for_status()
        customer.ids["ticket_id"] = ticket.json()["ticket_id"]
        own_client.post(
            f"/api/accounts/{customer.account_id}/contacts",
            {"name": "Financeiro", "email": f"fin-{uuid.uuid4().hex[:6]}@example.com", "departments": ["billing"]},
            token=customer.token,
        ).raise_for_status()

    in_parallel(client, customers, ticket_and_contact)
    client.settle()


# --- 1. load ---------------------------------------------------------------------------------------------------------
def served_paths() -> tuple[list[str], list[str]]:
    from devstack import template

    served = {(r.method, r.path) for r in template.api_routes()}
    return (
        [p for p in API_BROWSING if ("GET", p) in served],
        [p for p in PAGE_BROWSING if ("GET", p) in served],
    )


def load(client: Any, customers: list[Customer], seconds: float) -> dict[str, Any]:
    api_paths, page_paths = served_paths()
    script = [("api", p) for p in api_paths] + [("page", p) for p in page_paths]
    samples: dict[str, list[float]] = defaultdict(list)
    errors: dict[str, list[str]] = defaultdict(list)
    lock = threading.Lock()
    deadline = time.monotonic() + seconds
    max_requests = int(seconds * 200)  # the loop's bound, whatever the stack's speed

    def browse(customer: Customer) -> None:
        api = requests.Session()
        api.headers["Authorization"] = f"Bearer {customer.token}"
        for step in range(max_requests):
            if time.monotonic() >= deadline:
                return
            kind, template_path = script[step % len(script)]
            path = re.sub(r"\{(\w+)\}", lambda m: customer.ids.get(m.group(1), "unknown"), template_path)
            session = api if kind == "api" else customer.portal
            label = f"GET {template_path}"
            started = time.perf_counter()
            try:
                answer = session.get(client.url(path), allow_redirects=False, timeout=30)
                problem = None if answer.status_code == 200 else f"HTTP {answer.status_code}"
            except requests.RequestException as failure:
                problem = type(failure).__name__
            elapsed = time.perf_counter() - started
            with lock:
                samples[label].append(elapsed)
                if problem:
                    errors[label].append(problem)

    threads = [threading.Thread(target=browse, args=(c,), name=f"customer-{i}") for i, c in enumerate(customers)]
    began = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    took = time.monotonic() - began
    routes: list[dict[str, Any]] = []
    for label, times in sorted(samples.items()):
        kinds = sorted(set(errors.get(label, [])))
        routes.append(
            {
                "route": label,
                "requests": len(times),
                "errors": len(errors.get(label, [])),
                "error_kinds": kinds,
                "p50_ms": median(times) * 1000,
                "p95_ms": percentile(times, 0.95) * 1000,
            }
        )
    total = sum(r["requests"] for r in routes)
    return {
        "measured": True,
        "customers": len(customers),
        "seconds": took,
        "requests": total,
        "requests_per_second": total / took if took else 0.0,
        "errors": sum(r["errors"] for r in routes),
        "routes": routes,
    }


# --- 2. payment webhook → unsuspended ---------------------------------------------------------------------------------
def dev_pay(client: Any, invoice_id: str) -> requests.Response:
    response: requests.Response = client.post(f"/_dev/pay/{invoice_id}", {"outcome": "paid"})
    return response


def service_status(client: Any, customer: Customer, service_id: str) -> str:
    answer = client.get(f"/api/accounts/{customer.account_id}/services/{service_id}", token=customer.token)
    return str(answer.json().get("status")) if answer.status_code == 200 else f"HTTP {answer.status_code}"


class NotMeasuredError(Exception):
    """A step of a scenario could not be done: the figure is reported as not measured, with this reason."""


PER_CUSTOMER = 10  # services each paying customer orders
UNSUSPEND_WAIT_SECONDS = 15
# The pause between two reads of the service's status: each read is a request the devstack serves in the same
# interpreter as the payment's hops, so reading without pause would slow down what is measured.
STATUS_POLL_SECONDS = 0.1
RENEWAL_WINDOW_DAYS = 14  # the default renewal lead (PRODUCT.md): a renewal is issued 14 days before its due date
RENEWAL_DAYS_LIMIT = 60  # the daily renewal runs give up after this many days


def monthly_product(client: Any) -> dict[str, Any]:
    """A catalog product with a monthly price; NotMeasuredError when payments or services are not there."""
    if not (ROOT / "functions" / "webhooks").is_dir():
        raise NotMeasuredError("payments capability not present (functions/webhooks)")
    probe = client.post("/_dev/pay/bench-unknown-invoice", {"outcome": "paid"})
    if probe.status_code == 404 and "not_found" not in probe.text:
        raise NotMeasuredError("payments capability not present (no /_dev/pay on the devstack)")
    products = client.get("/api/catalog/products", params={"currency": "BRL"})
    if products.status_code != 200 or not products.json().get("items"):
        raise NotMeasuredError(
            f"services capability not present (GET /api/catalog/products answered {products.status_code})"
        )
    for product in products.json()["items"]:
        if any(price.get("cycle") == "monthly" for price in product.get("prices", [])):
            return dict(product)
    raise NotMeasuredError("no product with a monthly price in the catalog")


def paid_services(client: Any, owners: list[Customer], product_id: str, count: int) -> list[tuple[Customer, str]]:
    """``count`` services ordered and paid, spread over the owners, each active once the stack settled. One owner
    orders a day, so their renewals fall due on different days (as customers' do)."""
    services: list[tuple[Customer, str]] = []
    for index, customer in enumerate(owners):
        if index:
            client.clock(advance="P1D")
        wanted = min(PER_CUSTOMER, count - len(services))
        items = [
            {"product_id": product_id, "cycle": "monthly", "domain": f"bench{uuid.uuid4().hex[:8]}.com.br"}
            for _ in range(wanted)
        ]
        order = client.post(f"/api/accounts/{customer.account_id}/orders", {"items": items}, token=customer.token)
        if order.status_code != 201:
            raise NotMeasuredError(f"placing an order answered {order.status_code}: {order.text[:200]}")
        paid = dev_pay(client, order.json()["invoice_id"])
        if paid.status_code != 200:
            raise NotMeasuredError(f"/_dev/pay answered {paid.status_code}: {paid.text[:200]}")
        services += [(customer, sid) for sid in order.json()["service_ids"]]
    client.settle()
    inactive = [sid for c, sid in services if service_status(client, c, sid) != "active"]
    if inactive:
        raise NotMeasuredError(f"{len(inactive)} paid services did not become active")
    return services


def renewal_invoices(client: Any, services: list[tuple[Customer, str]]) -> dict[str, str]:
    """The daily renewal run, day after day from the day before the first owner's renewal window opens, until
    every service has its unpaid renewal invoice: service id → invoice id. Each run issues one day's renewals (and
    the devstack settles), as the schedule does on AWS."""
    owners = list({id(customer): customer for customer, _ in services}.values())
    wanted = {service_id for _, service_id in services}
    renewal_of: dict[str, str] = {}
    seen: set[str] = set()

    def of_owner(own_client: Any, customer: Customer) -> dict[str, str]:
        found: dict[str, str] = {}
        base = f"/api/accounts/{customer.account_id}/invoices"
        listed = own_client.get(base, params={"status": "unpaid", "limit": "100"}, token=customer.token).json()
        for item in listed.get("items", []):
            if item.get("kind") != "renewal" or item["invoice_id"] in seen:
                continue
            detail = own_client.get(f"{base}/{item['invoice_id']}", token=customer.token).json()
            found.update(
                {line["service_id"]: item["invoice_id"] for line in detail.get("lines", []) if line.get("service_id")}
            )
        return found

    client.clock(advance=f"P{max(1, RENEWAL_WINDOW_DAYS + 1 - len(owners))}D")
    for _ in range(RENEWAL_DAYS_LIMIT):
        client.run_job("renewals")
        for found in in_parallel(client, owners, of_owner):
            renewal_of.update(found)
            seen.update(found.values())
        if wanted <= renewal_of.keys():
            return renewal_of
        client.clock(advance="P1D")
    missing = len(wanted - renewal_of.keys())
    raise NotMeasuredError(f"the daily renewal runs issued no renewal for {missing} of {len(wanted)} services")


def suspend_for_overdue(client: Any, staff_token: str, services: list[tuple[Customer, str]]) -> None:
    def suspend(own_client: Any, service_id: str) -> None:
        answer = own_client.post(f"/api/staff/services/{service_id}/suspend", {"reason": "overdue"}, token=staff_token)
        if answer.status_code != 200:
            raise NotMeasuredError(f"suspending for overdue answered {answer.status_code}: {answer.text[:200]}")

    in_parallel(client, [service_id for _, service_id in services], suspend)
    client.settle()


def seconds_to_unsuspended(client: Any, customer: Customer, service_id: str, invoice_id: str) -> float | None:
    """Pay the renewal through the provider's signed webhook; seconds until the service reads active again (None
    when it did not within ``UNSUSPEND_WAIT_SECONDS`` or the payment failed). The bench reads the service through
    the API as a customer would, while ``/_dev/pay`` is still open: that answers once the webhook was handled and
    the whole stack settled (the emails and documents of the payment too), which is not what the customer waits
    for. The next payment starts after it answered, so each one meets a quiet stack."""
    from support.stack_client import StackClient

    payer = StackClient(client.base_url)
    answered: list[int] = []
    paying = threading.Thread(target=lambda: answered.append(dev_pay(payer, invoice_id).status_code), name="pay")
    started = time.perf_counter()
    paying.start()
    elapsed: float | None = None
    while elapsed is None and time.perf_counter() - started <= UNSUSPEND_WAIT_SECONDS:
        if service_status(client, customer, service_id) == "active":
            elapsed = time.perf_counter() - started
        else:
            time.sleep(STATUS_POLL_SECONDS)
    paying.join()
    return elapsed if answered == [200] else None


def webhook_to_unsuspended(client: Any, sizes: Sizes) -> dict[str, Any]:
    try:
        product = monthly_product(client)
        owners = new_customers(client, max(1, -(-sizes.payments // PER_CUSTOMER)), "paying")
        progress(f"webhook → unsuspended: ordering and paying {sizes.payments} services, one customer a day")
        services = paid_services(client, owners, product["product_id"], sizes.payments)
        progress("webhook → unsuspended: the daily renewal runs, then the services suspended for overdue")
        renewal_of = renewal_invoices(client, services)
        suspend_for_overdue(client, client.staff_token(), services)
        # ID tokens live 15 minutes (wall time): the owners sign in again before their services are read
        in_parallel(client, owners, lambda own_client, owner: owner.sign_in(own_client))
    except NotMeasuredError as reason:
        return not_measured(str(reason))
    progress(f"webhook → unsuspended: {len(services)} payments")
    timed = [seconds_to_unsuspended(client, c, sid, renewal_of[sid]) for c, sid in services]
    latencies = [t for t in timed if t is not None]
    if not latencies:
        return not_measured("no service was unsuspended after its renewal was paid")
    return {
        "measured": True,
        "payments": len(latencies),
        "not_unsuspended_in_15s": len(timed) - len(latencies),
        "p50_seconds": median(latencies),
        "p95_seconds": percentile(latencies, 0.95),
    }


# --- 3. Step Functions transitions per dunning cycle ------------------------------------------------------------------
def dunning_machine_logical_id() -> str | None:
    from devstack import template

    for logical_id, resource in template.resources("AWS::Serverless::StateMachine").items():
        if str(resource.get("Properties", {}).get("DefinitionUri", "")).endswith("dunning.asl.json"):
            return str(logical_id)
    return None


def dunning_transitions(client: Any, staff_token: str, customer: Customer) -> dict[str, Any]:
    if not (ROOT / "infra" / "statemachines" / "dunning.asl.json").exists():
        return not_measured("dunning capability not present (infra/statemachines/dunning.asl.json)")
    logical_id = dunning_machine_logical_id()
    machine_arn = client.stack["resources"].get(logical_id or "")
    if not machine_arn:
        return not_measured("no state machine in template.yaml is defined by dunning.asl.json")
    created = client.post(
        "/api/staff/invoices",
        {
            "account_id": customer.account_id,
            "lines": [{"description": "Hospedagem (dunning)", "unit_price": {"amount": 4990, "currency": "BRL"}}],
            "issue": True,
        },
        token=staff_token,
    )
    if created.status_code != 201:
        return not_measured(f"issuing an invoice answered {created.status_code}")
    invoice_id = created.json()["invoice_id"]
    sfn = client.aws("stepfunctions")

    def execution() -> dict[str, Any] | None:
        pages = sfn.get_paginator("list_executions").paginate(stateMachineArn=machine_arn)
        found = [e for page in pages for e in page["executions"] if e["name"].startswith(invoice_id)]
        return found[-1] if found else None

    days = 0
    progress("dunning cycle: the invoice stays unpaid while the clock moves a day at a time")
    while days < 120:
        current = execution()
        if current is not None and current["status"] != "RUNNING":
            break
        if current is None and days > 10:
            return not_measured("no dunning execution started for an invoice ten days overdue")
        client.clock(advance="P1D")
        days += 1
    current = execution()
    if current is None or current["status"] == "RUNNING":
        return not_measured(f"the dunning execution did not end within {days} days")
    events = [
        e
        for page in sfn.get_paginator("get_execution_history").paginate(executionArn=current["executionArn"])
        for e in page["events"]
    ]
    entered = [e for e in events if e["type"].endswith("StateEntered")]
    return {
        "measured": True,
        "execution_status": current["status"],
        "days_walked": days,
        "transitions": len(entered),
        "history_events": len(events),
        "states": sorted({e["stateEnteredEventDetails"]["name"] for e in entered}),
    }


def measure(sizes: Sizes) -> dict[str, Any]:
    fake_aws_environment()  # the bench reads the stack's Step Functions through its moto server
    use_test_support()
    from support.stack_client import StackClient

    progress("devstack: starting its own, in a subprocess")
    stack = Devstack()
    try:
        client = StackClient(stack.url)
        staff_setup(client)
        try:
            webhook = webhook_to_unsuspended(client, sizes)
        except Exception as failure:  # a capability half-built: say so, keep the other figures
            webhook = not_measured(f"the scenario failed: {type(failure).__name__}: {failure}"[:300])
        try:
            [payer] = new_customers(client, 1, "dunning")
            dunning = dunning_transitions(client, client.staff_token(), payer)
        except Exception as failure:
            dunning = not_measured(f"the scenario failed: {type(failure).__name__}: {failure}"[:300])
        progress(f"load: {sizes.load_customers} customers with data, signed in")
        customers = new_customers(client, sizes.load_customers, "load")
        give_data(client, customers)
        progress(f"load: {len(customers)} customers browsing for {sizes.load_seconds:.0f} s")
        loaded = load(client, customers, sizes.load_seconds)
    finally:
        stack.stop()
    return {"load": loaded, "webhook_to_unsuspended": webhook, "dunning_transitions": dunning}


def main(argv: list[str]) -> int:
    write_result(argv[0], measure(Sizes.from_environment()))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

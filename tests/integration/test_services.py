"""The services routes and consumers with real events: the catalog, orders paid through the settlement core, the
pipeline that activates and provisions them, the customer's views (and their read budgets), single sign-on and the
panel password, plan changes, cancellation requests, the jobs and the staff's actions."""

from __future__ import annotations

import logging
from datetime import date

import pytest

from balcao.adapters.dynamodb import keys
from balcao.adapters.dynamodb.models import LookupItem, OrderItem, ServiceItem
from balcao.adapters.provisioning.simulated import simulated_account, simulated_calls
from balcao.domain.accounts import Permission
from balcao.runtime import services_composition
from balcao.runtime.invoices_composition import invoices
from devstack import mail
from support.billing import ledger_sum
from support.events import api_event, json_body
from support.identity import given_account, given_member, given_session, given_staff
from support.pipeline import Pipeline
from support.services import (
    ACCOUNT,
    SERVICE,
    SERVICES,
    call,
    given_catalog,
    pay_in_full,
    quiet_panel,
)

TODAY = "2026-11-22T12:00:00Z"


@pytest.fixture
def world(aws, clock, invoke):
    services_composition.catalog_store().forget()
    services_composition.LIVE_CACHE.clear()
    panel = quiet_panel()
    owner = given_session("owner-s", "owner-s@example.com")
    account = given_account(owner.user_id, name="Loja da Ana", email=owner.email)
    catalog = given_catalog()
    yield {
        "owner": owner,
        "account": account,
        "catalog": catalog,
        "panel": panel,
        "staff": given_staff("staff_support"),
        "admin": given_staff("staff_admin"),
        "pipeline": Pipeline(aws, invoke),
    }
    services_composition.install_panel(None)


def order(invoke, world, domain="lojadaana.com.br", product=None, **extra):
    product = product or world["catalog"].basic
    body = {"items": [{"product_id": product.product_id, "cycle": "monthly", "domain": domain, **extra}]}
    response, answer = call(invoke, "POST", f"{ACCOUNT}/orders", world["owner"], body, account_id=world["account"])
    assert response["statusCode"] == 201, answer
    return answer


def service_item(world, service_id):
    return ServiceItem.get(keys.account_pk(world["account"]), keys.service_sk(service_id))


def active_service(invoke, world, domain="lojadaana.com.br", **extra):
    placed = order(invoke, world, domain, **extra)
    pay_in_full(world["account"], placed["invoice_id"])
    world["pipeline"].run()
    return placed["service_ids"][0]


# --- the catalog ----------------------------------------------------------------------------------------------------
def test_the_catalog_lists_visible_products_in_the_callers_language_and_currency(world, invoke, ddb_calls):
    # Given a hidden product besides the two plans
    hidden = services_composition.catalog().update(world["catalog"].basic.product_id, lambda p: {"visible": False})
    assert hidden.visible is False
    services_composition.catalog_store().forget()
    # When anyone reads the catalog in euros, in Spanish
    event = api_event("GET", "/api/catalog/products", query={"currency": "EUR"}, headers={"Accept-Language": "es"})
    with ddb_calls() as calls:
        response = invoke("services", event)
    # Then only visible products, with euro prices and the support levels, in one query
    assert response["statusCode"] == 200, response["body"]
    items = json_body(response)["items"]
    names = [i["name"] for i in items]
    assert "Alojamiento Profesional" in names and "Alojamiento Básico" not in names
    pro = next(i for i in items if i["name"] == "Alojamiento Profesional")
    assert pro["prices"] == [
        {
            "cycle": "monthly",
            "price": {"amount": 2490, "currency": "EUR"},
            "setup_fee": {"amount": 0, "currency": "EUR"},
        }
    ]
    assert [s["code"] for s in pro["support_levels"]] == ["standard", "premium"]
    assert calls.total <= 1 and calls.scans == 0


# --- orders, payment, activation, provisioning ------------------------------------------------------------------------
def test_an_order_is_pending_until_its_invoice_is_paid_then_active_on_the_panel(world, invoke):
    # Given an order of the basic plan with premium support
    placed = order(invoke, world, support_level="premium")
    [service_id] = placed["service_ids"]
    # Then the service is pending, its invoice of kind order bills plan + support for the first period
    invoice = invoices().invoice(world["account"], placed["invoice_id"])
    assert invoice.kind.value == "order" and invoice.total.amount == 4990 + 1990
    [line] = invoice.lines
    assert (line.service_id, line.period_start, line.period_end) == (service_id, date(2026, 11, 22), date(2026, 12, 21))
    assert service_item(world, service_id).status == "pending"
    assert (
        OrderItem.get(keys.account_pk(world["account"]), keys.order_sk(placed["order_id"])).gsi3pk == "pending_orders"
    )
    # When staff record the payment and the pipeline runs
    pay_in_full(world["account"], placed["invoice_id"])
    world["pipeline"].run()
    # Then the order is accepted, the service active, created on the panel, due one month after it started
    item = service_item(world, service_id)
    assert (item.status, item.next_due_date, item.anchor_day) == ("active", "2026-12-22", 22)
    assert item.provisioning["action"] == "create" and item.provisioning["state"] == "succeeded"
    account = simulated_account(item.username)
    assert account is not None and account.domain == "lojadaana.com.br" and account.package == "basic"
    assert item.paid_periods == [
        {"start": "2026-11-22", "end": "2026-12-22", "paid": {"amount": 6980, "currency": "BRL"}}
    ]
    stored_order = OrderItem.get(keys.account_pk(world["account"]), keys.order_sk(placed["order_id"]))
    assert stored_order.status == "accepted" and stored_order.gsi3pk is None
    # And the customer got the activation email with the access data
    activated = [m for m in mail.sent_messages(world["owner"].email) if item.username in m["text"]]
    assert activated, [m["subject"] for m in mail.sent_messages(world["owner"].email)]


def test_a_domain_is_hosted_by_one_service_and_orders_replay_with_their_idempotency_key(world, invoke):
    # Given an order for a domain
    first = order(invoke, world)
    # When the same domain is ordered again
    body = {
        "items": [{"product_id": world["catalog"].pro.product_id, "cycle": "monthly", "domain": "LojaDaAna.com.br"}]
    }
    response, answer = call(invoke, "POST", f"{ACCOUNT}/orders", world["owner"], body, account_id=world["account"])
    # Then it is refused with 409 and nothing was written
    assert response["statusCode"] == 409, answer
    assert (
        LookupItem.get(keys.hosted_domain_lookup_pk("lojadaana.com.br"), keys.LOOKUP).target["service_id"]
        == first["service_ids"][0]
    )
    # And an Idempotency-Key makes a retried order the same order
    body["items"][0]["domain"] = "outra.com.br"
    headers = {"Idempotency-Key": "order-1"}
    one, a = call(
        invoke, "POST", f"{ACCOUNT}/orders", world["owner"], body, headers=headers, account_id=world["account"]
    )
    two, b = call(
        invoke, "POST", f"{ACCOUNT}/orders", world["owner"], body, headers=headers, account_id=world["account"]
    )
    assert one["statusCode"] == two["statusCode"] == 201 and a == b


@pytest.mark.parametrize(
    ("item", "field"),
    [
        ({"product_id": "nope", "cycle": "monthly", "domain": "a.com"}, "items.0.product_id"),
        ({"cycle": "quarterly", "domain": "a.com"}, "items.0.cycle"),
        ({"cycle": "monthly", "domain": "not a domain"}, "items.0.domain"),
        ({"cycle": "monthly"}, "items.0.domain"),
        ({"cycle": "monthly", "domain": "a.com", "support_level": "gold"}, "items.0.support_level"),
    ],
)
def test_an_order_names_the_field_it_refuses(world, invoke, item, field):
    body = {"items": [{"product_id": world["catalog"].basic.product_id, **item}]}
    response, answer = call(invoke, "POST", f"{ACCOUNT}/orders", world["owner"], body, account_id=world["account"])
    assert response["statusCode"] == 422, answer
    assert [f["field"] for f in answer["error"]["fields"]] == [field]


def test_an_order_cannot_take_more_than_the_stock(world, invoke):
    limited = services_composition.catalog().update(world["catalog"].pro.product_id, lambda p: {"stock": 1})
    order(invoke, world, "um.com.br", product=limited)
    body = {"items": [{"product_id": limited.product_id, "cycle": "monthly", "domain": "dois.com.br"}]}
    response, answer = call(invoke, "POST", f"{ACCOUNT}/orders", world["owner"], body, account_id=world["account"])
    assert response["statusCode"] == 409, answer
    assert services_composition.catalog_store().product(limited.product_id).stock == 0


# --- the customer's views ------------------------------------------------------------------------------------------
def test_the_list_and_the_detail_cost_two_reads_and_show_the_live_state(world, invoke, ddb_calls):
    service_id = active_service(invoke, world)
    caller = world["owner"]
    with ddb_calls() as listing:
        response, body = call(invoke, "GET", SERVICES, caller, account_id=world["account"])
    assert response["statusCode"] == 200 and listing.total <= 2 and listing.scans == 0, listing
    [item] = body["items"]
    assert (item["status"], item["cycle"], item["price"]["amount"], item["next_due_date"]) == (
        "active",
        "monthly",
        4990,
        "2026-12-22",
    )
    with ddb_calls() as detail:
        response, body = call(invoke, "GET", SERVICE, caller, account_id=world["account"], service_id=service_id)
    assert response["statusCode"] == 200 and detail.total <= 2, detail
    assert body["live"]["state"] == "active" and body["live"]["stale"] is False
    assert body["support_level"]["code"] == "standard"


def test_the_live_state_falls_back_to_the_last_known_one_when_the_panel_fails(world, invoke):
    service_id = active_service(invoke, world)
    from balcao.adapters.provisioning.simulated import SimulatedProvisioner

    services_composition.install_panel(SimulatedProvisioner(latency_seconds=0, fail_actions=frozenset({"status"})))
    response, body = call(invoke, "GET", SERVICE, world["owner"], account_id=world["account"], service_id=service_id)
    assert response["statusCode"] == 200
    assert body["live"]["state"] == "active" and body["live"]["stale"] is True


def test_a_delegate_sees_their_service_without_billing_data(world, invoke):
    service_id = active_service(invoke, world)
    other = active_service(invoke, world, "outro.com.br")
    delegate = given_session("delegate-s", "delegate@example.com")
    given_member(
        world["account"], delegate.user_id, {Permission.SERVICES, Permission.SERVICE_SSO}, service_id=service_id
    )
    response, body = call(invoke, "GET", SERVICES, delegate, account_id=world["account"])
    assert response["statusCode"] == 200
    [item] = body["items"]
    assert (
        item["service_id"] == service_id
        and item["price"] is None
        and item["cycle"] is None
        and item["next_due_date"] is None
    )
    response, _ = call(invoke, "GET", SERVICE, delegate, account_id=world["account"], service_id=other)
    assert response["statusCode"] == 404
    response, body = call(
        invoke, "POST", f"{SERVICE}/sso", delegate, account_id=world["account"], service_id=service_id
    )
    assert response["statusCode"] == 200 and "/_dev/cpanel/" in body["url"]


def test_single_sign_on_answers_a_session_url_that_is_never_logged(world, invoke, caplog):
    service_id = active_service(invoke, world)
    with caplog.at_level(logging.DEBUG):
        response, body = call(
            invoke, "POST", f"{SERVICE}/sso", world["owner"], account_id=world["account"], service_id=service_id
        )
    assert response["statusCode"] == 200, body
    url = body["url"]
    assert "session=" in url
    assert url not in caplog.text and url.split("session=")[1] not in caplog.text
    assert ("sso_url", service_item(world, service_id).username) in simulated_calls()


def test_the_panel_password_follows_the_policy(world, invoke):
    service_id = active_service(invoke, world)
    weak, answer = call(
        invoke,
        "POST",
        f"{SERVICE}/password",
        world["owner"],
        {"password": "short"},
        account_id=world["account"],
        service_id=service_id,
    )
    assert weak["statusCode"] == 422 and answer["error"]["fields"][0]["field"] == "password"
    ok, _ = call(
        invoke,
        "POST",
        f"{SERVICE}/password",
        world["owner"],
        {"password": "Nova-senha-forte-1"},
        account_id=world["account"],
        service_id=service_id,
    )
    assert ok["statusCode"] == 204
    assert ("change_password", service_item(world, service_id).username) in simulated_calls()


def test_a_pending_service_has_no_panel_yet(world, invoke):
    placed = order(invoke, world)
    response, body = call(
        invoke,
        "POST",
        f"{SERVICE}/sso",
        world["owner"],
        account_id=world["account"],
        service_id=placed["service_ids"][0],
    )
    assert response["statusCode"] == 409 and body["error"]["code"] == "conflict"


# --- plan changes: the worked examples of the issue -------------------------------------------------------------------
def upgrade(invoke, world, service_id, product, confirm=False, cycle="monthly", **extra):
    body = {"product_id": product.product_id, "cycle": cycle, "confirm": confirm, **extra}
    return call(
        invoke, "POST", f"{SERVICE}/upgrade", world["owner"], body, account_id=world["account"], service_id=service_id
    )


def money(amount):
    return {"amount": amount, "currency": "BRL"}


def test_an_upgrade_is_quoted_in_whole_days_ordered_paid_and_applied(world, invoke, clock):
    # Given the basic plan (R$ 49,90 a month) paid on 22 November, due on 22 December
    service_id = active_service(invoke, world)
    # When on 10 December (12 of 30 days left) the customer quotes the professional plan (R$ 99,90)
    clock.set("2026-12-10T15:00:00Z")
    response, quote = upgrade(invoke, world, service_id, world["catalog"].pro)
    # Then credit = 49,90 × 12/30 = 19,96, debit = 99,90 × 12/30 = 39,96, due 20,00; the due date stays
    assert response["statusCode"] == 200, quote
    assert (quote["credit"], quote["debit"], quote["amount_due"]) == (money(1996), money(3996), money(2000))
    assert (quote["days_left"], quote["days_in_current_period"], quote["days_in_new_period"]) == (12, 30, 30)
    assert quote["next_due_date"] == "2026-12-22"
    # When it is confirmed, an upgrade invoice of R$ 20,00 is issued and nothing changes before it is paid
    response, ordered = upgrade(invoke, world, service_id, world["catalog"].pro, confirm=True)
    assert response["statusCode"] == 201, ordered
    assert ordered["amount_due"] == money(2000) and ordered["invoice_id"]
    invoice = invoices().invoice(world["account"], ordered["invoice_id"])
    assert invoice.kind.value == "upgrade" and invoice.total.amount == 2000
    assert service_item(world, service_id).pending_order_id == ordered["order_id"]
    again, refused = upgrade(invoke, world, service_id, world["catalog"].pro)
    assert again["statusCode"] == 409, refused
    # When it is paid
    pay_in_full(world["account"], ordered["invoice_id"])
    world["pipeline"].run()
    # Then the service is on the professional plan, the panel's package changed, the due date did not move
    item = service_item(world, service_id)
    assert (item.product_id, item.price, item.package, item.next_due_date) == (
        world["catalog"].pro.product_id,
        9990,
        "pro",
        "2026-12-22",
    )
    assert simulated_account(item.username).package == "pro"
    assert item.paid_periods[-1] == {"start": "2026-12-10", "end": "2026-12-22", "paid": money(3996)}
    assert item.pending_order_id is None
    # And a downgrade on the same day credits back exactly what the upgrade cost: net zero
    response, down = upgrade(invoke, world, service_id, world["catalog"].basic, confirm=True)
    assert response["statusCode"] == 201, down
    assert down["invoice_id"] is None and down["amount_due"] == money(-2000) and down["status"] == "accepted"
    assert ledger_sum(world["account"]) == 2000
    item = service_item(world, service_id)
    assert (item.price, item.package) == (4990, "basic")
    world["pipeline"].run()
    assert simulated_account(item.username).package == "basic"
    subjects = [m["subject"] for m in mail.sent_messages(world["owner"].email)]
    assert sum("lojadaana.com.br" in s for s in subjects) >= 3  # activated, changed twice


def test_a_prepaid_next_period_is_charged_whole_at_the_new_price(world, invoke, clock):
    # Given the basic plan whose renewal for 22 December – 21 January is already paid
    service_id = active_service(invoke, world)
    clock.set("2026-12-10T15:00:00Z")
    invoke("billing_jobs", {"job": "renewals"})
    [renewal_id] = [i.invoice_id for i in invoices().page(world["account"], "unpaid", 10, None).items]
    pay_in_full(world["account"], renewal_id)
    world["pipeline"].run()
    assert service_item(world, service_id).next_due_date == "2027-01-22"
    # When the professional plan is quoted on 10 December
    response, quote = upgrade(invoke, world, service_id, world["catalog"].pro)
    # Then the current period is prorated as before and the prepaid month costs 99,90 − 49,90 more
    assert response["statusCode"] == 200, quote
    assert (quote["credit"], quote["debit"]) == (money(1996), money(3996))
    assert quote["next_period_adjustment"] == money(5000) and quote["amount_due"] == money(7000)
    assert quote["next_due_date"] == "2027-01-22"


def test_confirming_a_change_issues_the_unpaid_renewal_again_at_the_new_price(world, invoke, clock):
    # Given the renewal of 22 December issued (and numbered) but unpaid
    service_id = active_service(invoke, world)
    clock.set("2026-12-10T15:00:00Z")
    invoke("billing_jobs", {"job": "renewals"})
    [old] = [i for i in invoices().page(world["account"], "unpaid", 10, None).items if i.kind.value == "renewal"]
    # When an upgrade is confirmed
    response, ordered = upgrade(invoke, world, service_id, world["catalog"].pro, confirm=True)
    assert response["statusCode"] == 201, ordered
    # Then the old renewal is cancelled by a credit note and a new one bills the professional plan
    assert invoices().invoice(world["account"], old.invoice_id).status.value == "cancelled"
    renewals = [i for i in invoices().page(world["account"], "unpaid", 10, None).items if i.kind.value == "renewal"]
    assert [(r.total.amount, r.due_date.isoformat()) for r in renewals] == [(9990, "2026-12-22")]
    guard = LookupItem.get(keys.renewal_guard_pk(service_id, "2026-12-22"), keys.LOOKUP)
    assert guard.target["invoice_id"] == renewals[0].invoice_id


# --- cancellation requests ------------------------------------------------------------------------------------------
def test_an_end_of_period_cancellation_cancels_the_renewal_and_happens_on_its_date(world, invoke, clock):
    service_id = active_service(invoke, world)
    clock.set("2026-12-10T15:00:00Z")
    invoke("billing_jobs", {"job": "renewals"})
    [renewal] = [i for i in invoices().page(world["account"], "unpaid", 10, None).items if i.kind.value == "renewal"]
    body = {"type": "end_of_period", "reason": "Vou migrar o site"}
    response, answer = call(
        invoke,
        "POST",
        f"{SERVICE}/cancellation",
        world["owner"],
        body,
        account_id=world["account"],
        service_id=service_id,
    )
    assert response["statusCode"] == 201, answer
    assert answer["cancellation"]["effective_date"] == "2026-12-22" and answer["status"] == "active"
    assert invoices().invoice(world["account"], renewal.invoice_id).status.value == "cancelled"
    again, _ = call(
        invoke,
        "POST",
        f"{SERVICE}/cancellation",
        world["owner"],
        body,
        account_id=world["account"],
        service_id=service_id,
    )
    assert again["statusCode"] == 409
    world["pipeline"].run()
    assert any("Vou migrar" not in m["text"] and "2026" in m["text"] for m in mail.sent_messages(world["owner"].email))
    # Before the date the job leaves it alone; on the date it is cancelled and the panel account removed
    clock.set("2026-12-21T15:00:00Z")
    assert invoke("services_jobs", {"job": "cancellations"})["counts"]["cancelled"] == 0
    clock.set("2026-12-22T15:00:00Z")
    assert invoke("services_jobs", {"job": "cancellations"})["counts"]["cancelled"] == 1
    world["pipeline"].run()
    item = service_item(world, service_id)
    assert (item.status, item.reason, item.gsi3pk, item.gsi2pk) == ("cancelled", "customer_request", None, None)
    assert simulated_account(item.username) is None
    assert item.history[-1]["actor"] == "system:cancellations"


def test_a_withdrawn_cancellation_renews_again(world, invoke, clock):
    service_id = active_service(invoke, world)
    clock.set("2026-12-10T15:00:00Z")
    invoke("billing_jobs", {"job": "renewals"})
    body = {"type": "end_of_period", "reason": "Caro demais"}
    call(
        invoke,
        "POST",
        f"{SERVICE}/cancellation",
        world["owner"],
        body,
        account_id=world["account"],
        service_id=service_id,
    )
    response, _ = call(
        invoke, "DELETE", f"{SERVICE}/cancellation", world["owner"], account_id=world["account"], service_id=service_id
    )
    assert response["statusCode"] == 204
    item = service_item(world, service_id)
    assert item.cancellation is None and item.auto_renew is True and item.gsi3pk is None
    renewals = [i for i in invoices().page(world["account"], "unpaid", 10, None).items if i.kind.value == "renewal"]
    assert [r.total.amount for r in renewals] == [4990]
    response, _ = call(
        invoke, "DELETE", f"{SERVICE}/cancellation", world["owner"], account_id=world["account"], service_id=service_id
    )
    assert response["statusCode"] == 409


def test_an_immediate_cancellation_ends_the_service_now(world, invoke):
    service_id = active_service(invoke, world)
    body = {"type": "immediate", "reason": "Não preciso mais"}
    response, answer = call(
        invoke,
        "POST",
        f"{SERVICE}/cancellation",
        world["owner"],
        body,
        account_id=world["account"],
        service_id=service_id,
    )
    assert response["statusCode"] == 201 and answer["status"] == "cancelled", answer
    world["pipeline"].run()
    assert simulated_account(service_item(world, service_id).username) is None
    with pytest.raises(LookupItem.DoesNotExist):
        LookupItem.get(keys.hosted_domain_lookup_pk("lojadaana.com.br"), keys.LOOKUP)


# --- the jobs ------------------------------------------------------------------------------------------------------
def test_unpaid_orders_are_cancelled_after_seven_days_unless_a_payment_is_in_flight(world, invoke, clock):
    from balcao.domain.invoice_document import PaymentMethod

    unpaid = order(invoke, world, "esquecido.com.br")
    pending = order(invoke, world, "boleto.com.br")
    invoices().mark_payment_pending(world["account"], pending["invoice_id"], PaymentMethod.BOLETO, {})
    clock.set("2026-11-29T15:00:00Z")
    assert invoke("services_jobs", {"job": "unpaid_orders"})["counts"]["cancelled"] == 0
    clock.set("2026-11-30T15:00:00Z")
    counts = invoke("services_jobs", {"job": "unpaid_orders"})["counts"]
    assert (counts["cancelled"], counts["skipped"]) == (1, 1)
    world["pipeline"].run()
    assert invoices().invoice(world["account"], unpaid["invoice_id"]).status.value == "cancelled"
    item = service_item(world, unpaid["service_ids"][0])
    assert (item.status, item.reason) == ("cancelled", "unpaid_order")
    assert service_item(world, pending["service_ids"][0]).status == "pending"
    assert OrderItem.get(keys.account_pk(world["account"]), keys.order_sk(unpaid["order_id"])).status == "cancelled"


def test_unpaid_upgrades_are_dropped_after_seven_days(world, invoke, clock):
    service_id = active_service(invoke, world)
    clock.set("2026-12-01T15:00:00Z")
    response, ordered = upgrade(invoke, world, service_id, world["catalog"].pro, confirm=True)
    assert response["statusCode"] == 201, ordered
    clock.set("2026-12-09T15:00:00Z")
    assert invoke("services_jobs", {"job": "unpaid_upgrades"})["counts"]["cancelled"] == 1
    item = service_item(world, service_id)
    assert item.pending_order_id is None and item.price == 4990
    assert invoices().invoice(world["account"], ordered["invoice_id"]).status.value == "cancelled"


# --- staff ---------------------------------------------------------------------------------------------------------
def staff(invoke, world, service_id, action, reason="staff"):
    return call(
        invoke,
        "POST",
        f"/api/staff/services/{{service_id}}/{action}",
        world["staff"],
        {"reason": reason},
        service_id=service_id,
    )


def test_staff_suspend_unsuspend_and_terminate_with_a_reason_and_only_overdue_lifts_on_payment(world, invoke):
    service_id = active_service(invoke, world)
    response, body = staff(invoke, world, service_id, "suspend", "abuse")
    assert response["statusCode"] == 200 and (body["status"], body["reason"]) == ("suspended", "abuse"), body
    world["pipeline"].run()
    username = service_item(world, service_id).username
    assert simulated_account(username).suspended
    # A payment does not lift an abuse suspension
    assert services_composition.services().unsuspend_after_payment(world["account"], [service_id]) == []
    response, body = staff(invoke, world, service_id, "unsuspend")
    assert response["statusCode"] == 200 and body["status"] == "active"
    world["pipeline"].run()
    assert not simulated_account(username).suspended
    # An illegal transition is a 409 with a named error
    response, body = staff(invoke, world, service_id, "unsuspend")
    assert response["statusCode"] == 409 and body["error"]["code"] == "conflict"
    # Dunning's overdue suspension lifts with the payment (and sends no email of ours)
    order_id = service_item(world, service_id).order_id
    invoice_id = OrderItem.get(keys.account_pk(world["account"]), keys.order_sk(order_id)).invoice_id
    invoice = invoices().invoice(world["account"], invoice_id)
    assert services_composition.services().suspend_for_overdue(invoice) == [service_id]
    assert services_composition.services().suspend_for_overdue(invoice) == []
    assert services_composition.services().suspended_for_overdue(world["account"], [service_id]) == [service_id]
    assert services_composition.services().unsuspend_after_payment(world["account"], [service_id]) == [service_id]
    response, body = staff(invoke, world, service_id, "terminate")
    assert response["statusCode"] == 200 and body["status"] == "terminated"
    world["pipeline"].run()
    assert simulated_account(username) is None
    history = service_item(world, service_id).history
    assert [h["status"] for h in history] == [
        "pending",
        "active",
        "suspended",
        "active",
        "suspended",
        "active",
        "terminated",
    ]
    assert history[2]["reason"] == "abuse" and history[2]["actor"].startswith("staff:")


def test_staff_activate_a_pending_service_without_payment(world, invoke):
    placed = order(invoke, world)
    [service_id] = placed["service_ids"]
    response, body = staff(invoke, world, service_id, "activate")
    assert response["statusCode"] == 200 and body["status"] == "active", body
    world["pipeline"].run()
    assert simulated_account(service_item(world, service_id).username) is not None


# --- provisioning: retries, failures, staff retry, idempotency ----------------------------------------------------------
def test_a_failing_panel_is_retried_then_shown_to_staff_who_retry_it(world, invoke):
    from balcao.adapters.provisioning.simulated import SimulatedProvisioner

    services_composition.install_panel(SimulatedProvisioner(latency_seconds=0, fail_actions=frozenset({"create"})))
    placed = order(invoke, world)
    [service_id] = placed["service_ids"]
    pay_in_full(world["account"], placed["invoice_id"])
    world["pipeline"].run()
    item = service_item(world, service_id)
    assert item.status == "active" and item.provisioning["state"] == "failed"
    assert [c for c in simulated_calls() if c[0] == "create"] == [("create", item.username)] * 5
    response, failures = call(invoke, "GET", "/api/staff/provisioning/failures", world["staff"])
    assert response["statusCode"] == 200
    [failure] = failures["items"]
    assert (failure["service_id"], failure["action"], failure["attempts"]) == (service_id, "create", 5)
    # When the panel is back and staff retry
    services_composition.install_panel(SimulatedProvisioner(latency_seconds=0))
    response, retried = call(
        invoke, "POST", "/api/staff/services/{service_id}/provisioning/retry", world["staff"], service_id=service_id
    )
    assert response["statusCode"] == 200 and retried["state"] == "queued", retried
    world["pipeline"].run()
    assert service_item(world, service_id).provisioning["state"] == "succeeded"
    assert simulated_account(item.username) is not None
    assert call(invoke, "GET", "/api/staff/provisioning/failures", world["staff"])[1]["items"] == []
    response, _ = call(
        invoke, "POST", "/api/staff/services/{service_id}/provisioning/retry", world["staff"], service_id=service_id
    )
    assert response["statusCode"] == 409


def test_a_provisioning_request_is_carried_out_once(world, invoke):
    service_id = active_service(invoke, world)
    item = service_item(world, service_id)
    creates = [c for c in simulated_calls() if c[0] == "create"]
    outcome = services_composition.provisioning().run(world["account"], item.provisioning["request_id"])
    assert outcome == "duplicate"
    assert [c for c in simulated_calls() if c[0] == "create"] == creates


def test_a_suspension_lifted_before_it_ran_is_not_carried_out(world, invoke):
    service_id = active_service(invoke, world)
    staff(invoke, world, service_id, "suspend", "abuse")
    suspension = service_item(world, service_id).provisioning["request_id"]
    staff(invoke, world, service_id, "unsuspend")
    assert services_composition.provisioning().run(world["account"], suspension) == "superseded"
    assert not simulated_account(service_item(world, service_id).username).suspended


# --- staff products ---------------------------------------------------------------------------------------------------
def test_staff_create_and_change_products(world, invoke):
    body = {
        "name": {"pt-BR": "Certificado SSL", "es": "Certificado SSL", "en": "SSL certificate"},
        "type": "ssl",
        "prices": [{"cycle": "annual", "price": {"amount": 8990, "currency": "BRL"}}],
    }
    response, created = call(invoke, "POST", "/api/staff/products", world["admin"], body)
    assert response["statusCode"] == 201, created
    response, changed = call(
        invoke,
        "PATCH",
        "/api/staff/products/{product_id}",
        world["admin"],
        {"visible": False, "stock": 3},
        product_id=created["product_id"],
    )
    assert response["statusCode"] == 200 and (changed["visible"], changed["stock"]) == (False, 3), changed
    response, listed = call(invoke, "GET", "/api/staff/products", world["admin"])
    assert created["product_id"] in [p["product_id"] for p in listed["items"]]
    cpanel_without_package = {**body, "module": "cpanel"}
    response, refused = call(invoke, "POST", "/api/staff/products", world["admin"], cpanel_without_package)
    assert response["statusCode"] == 422 and refused["error"]["fields"][0]["field"] == "package"
    response, _ = call(invoke, "GET", "/api/staff/products", world["staff"])
    assert response["statusCode"] == 403

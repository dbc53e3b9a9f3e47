"""The services pages on moto: the order form, the services list and a service's page (live state, single sign-on,
the panel password), the plan change (quote then order) and the cancellation request — in three languages, within
the portal's read budget, and never showing another account's service."""

from __future__ import annotations

import uuid

import pytest

from balcao.adapters.dynamodb import keys
from balcao.adapters.dynamodb.models import ServiceItem
from balcao.adapters.provisioning.simulated import simulated_calls
from balcao.domain.accounts import Permission
from balcao.runtime import services_composition
from support.identity import given_account, given_member
from support.pipeline import Pipeline
from support.portal import Visitor, location, login_user, text
from support.services import given_catalog, given_order, pay_in_full, quiet_panel


def signed_in(invoke, email: str, language: str = "pt-BR") -> Visitor:
    visitor = Visitor(invoke, language)
    visitor.sign_in(email)
    return visitor


@pytest.fixture
def world(aws, invoke):
    services_composition.catalog_store().forget()
    services_composition.LIVE_CACHE.clear()
    quiet_panel()
    email, other_email = f"ana.{uuid.uuid4().hex[:8]}@example.com", f"bia.{uuid.uuid4().hex[:8]}@example.com"
    ana, bia = login_user(email, "Ana", "pt-BR"), login_user(other_email, "Bia", "es")
    account = given_account(ana, name="Ana Design", email=email)
    other = given_account(bia, name="Bia Secreta", email=other_email, language="es", currency="EUR")
    catalog = given_catalog()
    pipeline = Pipeline(aws, invoke)
    placed = given_order(account, catalog.basic, "anadesign.com.br")
    pay_in_full(account, placed.invoice.invoice_id)
    secret = given_order(other, catalog.basic, "bia-secreta.es")
    pipeline.run()
    yield {
        "owner": signed_in(invoke, email),
        "account": account,
        "service_id": placed.services[0].service_id,
        "other_service": secret.services[0].service_id,
        "catalog": catalog,
        "pipeline": pipeline,
        "invoke": invoke,
    }
    services_composition.install_panel(None)


def test_the_services_list_and_page_in_portuguese_within_the_read_budget(world, ddb_calls):
    owner = world["owner"]
    listing = owner.get("/services")
    assert listing["statusCode"] == 200
    assert "anadesign.com.br" in text(listing) and "Ativo" in text(listing) and "Mensal" in text(listing)
    with ddb_calls() as calls:
        page = owner.get(f"/services/{world['service_id']}")
    assert page["statusCode"] == 200 and calls.total <= 3 and calls.scans == 0, calls
    body = text(page)
    assert "No ar" in body and "Abrir o cPanel" in body and "Trocar de plano" in body
    assert 'href="/services"' in owner.get("/").get("body", "")


def test_another_accounts_service_is_the_not_found_page(world):
    response = world["owner"].get(f"/services/{world['other_service']}")
    assert response["statusCode"] == 404 and "bia-secreta.es" not in response["body"]


def test_a_member_without_the_services_permission_gets_the_not_found_page(world, invoke):
    email = f"mel.{uuid.uuid4().hex[:8]}@example.com"
    user_id = login_user(email, "Mel", "pt-BR")
    given_member(world["account"], user_id, {Permission.CONTACTS}, email=email)
    member = signed_in(invoke, email)
    assert member.get("/services")["statusCode"] == 404
    assert member.get(f"/services/{world['service_id']}")["statusCode"] == 404
    assert 'href="/services"' not in member.get("/")["body"]


def test_ordering_from_the_catalog_page_goes_to_the_invoice(world):
    owner = world["owner"]
    form = owner.get("/order")
    assert form["statusCode"] == 200 and "Hospedagem Profissional" in text(form)
    refused = owner.post(
        "/order", {"product_id": world["catalog"].pro.product_id, "cycle": "monthly", "domain": "não é domínio"}
    )
    assert refused["statusCode"] == 422 and "Informe um domínio válido" in text(refused)
    placed = owner.post(
        "/order",
        {
            "product_id": world["catalog"].pro.product_id,
            "cycle": "monthly",
            "domain": "novo.com.br",
            "support_level": "premium",
        },
    )
    assert (
        placed["statusCode"] == 303
        and location(placed).startswith("/invoices/")
        and "notice=ordered" in location(placed)
    )


def test_single_sign_on_and_the_panel_password_from_the_service_page(world):
    owner = world["owner"]
    service_id = world["service_id"]
    sso = owner.post(f"/services/{service_id}/sso")
    assert sso["statusCode"] == 200 and "/_dev/cpanel/" in sso["body"]
    username = ServiceItem.get(keys.account_pk(world["account"]), keys.service_sk(service_id)).username
    assert ("sso_url", username) in simulated_calls()
    weak = owner.post(f"/services/{service_id}/password", {"password": "fraca"})
    assert weak["statusCode"] == 422 and 'id="field-password"' in weak["body"] and 'aria-invalid="true"' in weak["body"]
    changed = owner.post(f"/services/{service_id}/password", {"password": "Outra-senha-forte-9"})
    assert changed["statusCode"] == 303 and "service_password_changed" in location(changed)


def test_a_plan_change_is_quoted_then_ordered_from_its_page(world):
    owner = world["owner"]
    service_id = world["service_id"]
    form = owner.get(f"/services/{service_id}/upgrade")
    assert form["statusCode"] == 200
    values = {"product_id": world["catalog"].pro.product_id, "cycle": "monthly", "support_level": ""}
    quoted = owner.post(f"/services/{service_id}/upgrade", {**values, "confirm": "no"})
    assert quoted["statusCode"] == 200 and "A pagar agora" in text(quoted)
    ordered = owner.post(f"/services/{service_id}/upgrade", {**values, "confirm": "yes"})
    assert ordered["statusCode"] == 303 and "notice=plan_change_ordered" in location(ordered)


def test_the_plan_change_page_reads_the_service_and_the_account_in_one_call(world, ddb_calls):
    # Given a service without a stored plan price (its currency is the account's) and a warm catalog cache
    bare = uuid.uuid4().hex.upper()
    ServiceItem(
        pk=keys.account_pk(world["account"]),
        sk=keys.service_sk(bare),
        service_id=bare,
        account_id=world["account"],
        name="Hospedagem",
        domain="antiga.com.br",
        status="active",
    ).save()
    owner = world["owner"]
    assert owner.get(f"/services/{world['service_id']}/upgrade")["statusCode"] == 200
    # When Ana opens its plan change page
    with ddb_calls() as calls:
        page = owner.get(f"/services/{bare}/upgrade")
    # Then the form answers within the portal's read budget: the session, the memberships, one BatchGet
    assert page["statusCode"] == 200 and "antiga.com.br" in text(page) and "R$" in text(page)
    assert calls.total <= 3 and calls.scans == 0, calls
    assert calls.operations[-1] == "BatchGetItem", calls
    # And another account's service is the 404 page, its domain nowhere
    refused = world["owner"].get(f"/services/{world['other_service']}/upgrade")
    assert refused["statusCode"] == 404 and "bia-secreta.es" not in refused["body"]


def test_a_cancellation_is_requested_and_withdrawn_from_the_service_page(world):
    owner = world["owner"]
    service_id = world["service_id"]
    owner.post("/language", {"language": "es", "next": "/"})
    form = owner.get(f"/services/{service_id}/cancellation")
    assert form["statusCode"] == 200 and "¿Cuándo debe terminar el servicio?" in text(form)
    refused = owner.post(f"/services/{service_id}/cancellation", {"type": "end_of_period", "reason": ""})
    assert refused["statusCode"] == 422
    requested = owner.post(
        f"/services/{service_id}/cancellation", {"type": "end_of_period", "reason": "Cambio de proveedor"}
    )
    assert requested["statusCode"] == 303 and "cancellation_requested" in location(requested)
    page = owner.get(f"/services/{service_id}")
    assert "Mantener el servicio" in text(page)
    withdrawn = owner.post(f"/services/{service_id}/cancellation/withdraw")
    assert withdrawn["statusCode"] == 303 and "cancellation_withdrawn" in location(withdrawn)

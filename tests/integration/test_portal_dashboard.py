"""The overview (``/``): what needs the customer first, then services, what is due and open tickets — each part only
with its permission, a delegate's one service, three languages, and one read beside the visitor's own two."""

from __future__ import annotations

from datetime import date

import pytest

from balcao.adapters.dynamodb.services import service_item
from balcao.domain.accounts import Permission
from balcao.domain.ids import new_ulid
from balcao.domain.service_lifecycle import ServiceReason, ServiceStatus
from balcao.domain.services import Service
from support.billing import given_issued_invoice
from support.identity import Caller, given_account, given_member
from support.portal import Visitor, login_user, member_of, text, unique
from support.tickets import given_ticket_with_attachment


def given_service(account_id: str, domain: str, status: ServiceStatus, reason: ServiceReason | None = None) -> str:
    service = Service(
        service_id=new_ulid(),
        account_id=account_id,
        name="Hospedagem Profissional",
        status=status,
        domain=domain,
        reason=reason,
        next_due_date=date(2026, 12, 10),
    )
    service_item(service).save()
    return service.service_id


@pytest.fixture
def owner(aws, invoke):
    email = unique("owner")
    user_id = login_user(email, "Ana Souza", language="pt-BR")
    account_id = given_account(user_id, name="Loja da Ana", email=email)
    visitor = Visitor(invoke, language="pt-BR", user_id=user_id)
    visitor.sign_in(email)
    visitor.account_id = account_id  # type: ignore[attr-defined]
    visitor.email = email  # type: ignore[attr-defined]
    return visitor


def test_the_owner_sees_what_needs_them_first_then_services_money_and_tickets(owner, ddb_calls):
    # Given an account with an active and an overdue-suspended service, a terminated one, an unpaid invoice and a ticket
    account_id = owner.account_id
    given_service(account_id, "lojadaana.com.br", ServiceStatus.ACTIVE)
    given_service(account_id, "blogdaana.com.br", ServiceStatus.SUSPENDED, ServiceReason.OVERDUE)
    given_service(account_id, "antigo.com.br", ServiceStatus.TERMINATED, ServiceReason.CUSTOMER_REQUEST)
    given_issued_invoice(account_id, amount=4990)
    given_ticket_with_attachment(account_id, Caller(owner.user_id, owner.email, "session"))
    # When the owner opens the overview
    with ddb_calls() as calls:
        response = owner.get("/")
    page = text(response)
    # Then the suspension comes first, with the way out
    assert response["statusCode"] == 200
    assert page.index("blogdaana.com.br está suspenso porque há uma fatura vencida.") < page.index("Seus serviços")
    assert 'href="/invoices?status=unpaid"' in response["body"]
    # And what is due, the open ticket and the services that still exist
    assert "1 fatura a pagar" in page and "R$\xa049,90" in page
    assert "1 ticket aberto" in page
    assert "1 serviço ativo" in page
    assert "lojadaana.com.br" in page and "antigo.com.br" not in page
    # And the page costs the visitor's two reads and one for the overview
    assert calls.total <= 3 and calls.scans == 0


def test_an_account_with_nothing_yet(owner):
    response = owner.get("/")
    page = text(response)
    assert "Nada a pagar." in page and "Nenhum serviço ainda." in page
    assert "0 ticket aberto" in page


def test_each_part_needs_its_permission(owner, invoke):
    # Given a member who may only open tickets, in an account with a suspended service and an unpaid invoice
    account_id = owner.account_id
    given_service(account_id, "blogdaana.com.br", ServiceStatus.SUSPENDED, ServiceReason.OVERDUE)
    given_issued_invoice(account_id, amount=4990)
    member = member_of(invoke, account_id, {Permission.TICKETS})
    # When they open the overview
    page = text(member.get("/"))
    # Then they see the tickets, and nothing of the services or the money
    assert "open ticket" in page
    assert "blogdaana.com.br" not in page and "49.90" not in page and "invoice" not in page.lower()


def test_a_delegate_sees_the_service_they_look_after_and_no_money(owner, invoke):
    # Given a technical delegate of one service, beside another service and an unpaid invoice
    account_id = owner.account_id
    theirs = given_service(account_id, "lojadaana.com.br", ServiceStatus.ACTIVE)
    given_service(account_id, "outro.com.br", ServiceStatus.ACTIVE)
    given_issued_invoice(account_id, amount=4990)
    email = unique("dev")
    user_id = login_user(email, "Dev")
    given_member(account_id, user_id, {Permission.SERVICES, Permission.SERVICE_SSO}, service_id=theirs, email=email)
    delegate = Visitor(invoke, user_id=user_id)
    delegate.sign_in(email)
    # When they open the overview
    response = delegate.get("/")
    page = text(response)
    # Then only their service, linked, and no due date, price or invoice
    assert "The service you look after" in page
    assert f'href="/services/{theirs}"' in response["body"]
    assert "outro.com.br" not in page and "invoice" not in page.lower() and "Next due date" not in page


@pytest.mark.parametrize(
    ("language", "expected"),
    [("es", "2 facturas por pagar"), ("en", "2 invoices to pay"), ("pt-BR", "2 faturas a pagar")],
)
def test_counts_are_plural_in_each_language(owner, language, expected):
    given_issued_invoice(owner.account_id, amount=4990)
    given_issued_invoice(owner.account_id, amount=1990)
    owner.cookies["balcao_lang"] = language
    assert expected in text(owner.get("/"))

"""Demo data for ``make run`` and the e2e suite: the logins of API.md and what each capability adds.

Every capability adds a step to ``STEPS``; steps run in order and share a ``SeedContext``. The seed writes through
the application's own stores (no emails are sent for it).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import boto3

from devstack.payments import seed_payments
from devstack.seed_invoices import seed_invoices
from devstack.seed_services import seed_services

DEMO_PASSWORD = "Balcao-demo-2026!"
STAFF_TOTP_SECRET = "JBSWY3DPEHPK3PXP"  # local-only; printed in the banner


@dataclass(frozen=True)
class DemoAccount:
    name: str
    language: str
    currency: str
    company: str | None = None


@dataclass(frozen=True)
class DemoLogin:
    email: str
    name: str
    language: str
    groups: tuple[str, ...] = ()
    accounts: tuple[DemoAccount, ...] = ()


DEMO_LOGINS = (
    DemoLogin(
        "ana@example.com",
        "Ana Souza",
        "pt-BR",
        accounts=(
            DemoAccount("Ana Souza Design", "pt-BR", "BRL", "Ana Souza Design Ltda"),
            DemoAccount("Ana Souza Estudio", "es", "EUR", "Estudio Souza S.L."),
        ),
    ),
    DemoLogin("bruno@example.com", "Bruno Lima", "pt-BR", accounts=(DemoAccount("Bruno Lima", "pt-BR", "BRL"),)),
    DemoLogin("staff@example.com", "Equipe Balcão", "en", ("staff_admin",)),
)


@dataclass
class SeedContext:
    environment: dict[str, str]
    user_ids: dict[str, str] = field(default_factory=dict)  # email → Cognito sub
    account_ids: dict[str, list[str]] = field(default_factory=dict)  # email → accounts they own, in DEMO order
    facts: dict[str, Any] = field(default_factory=dict)  # what steps want to print or share


def seed_logins(context: SeedContext) -> None:
    """Cognito users with the demo password, confirmed; their user records and accounts; staff with TOTP."""
    from dataclasses import replace

    from balcao.adapters.clock import app_clock
    from balcao.adapters.crypto import Sealer
    from balcao.adapters.secrets import secret_value
    from balcao.domain.accounts import ALL_PERMISSIONS, AccountProfile, Membership, Role
    from balcao.domain.identity import User, UserStatus
    from balcao.domain.ids import new_ulid
    from balcao.runtime.composition import identity_store
    from balcao.services.auth import TOTP_PURPOSE

    cognito = boto3.client("cognito-idp")
    pool = context.environment["USER_POOL_ID"]
    store = identity_store()
    now = app_clock().now()
    sealer = Sealer(lambda: secret_value(context.environment["TOTP_KEY_SECRET_ID"]))
    for login in DEMO_LOGINS:
        sub = confirmed_cognito_user(cognito, pool, login.email, login.name, DEMO_PASSWORD)
        for group in login.groups:
            cognito.admin_add_user_to_group(UserPoolId=pool, Username=sub, GroupName=group)
        context.user_ids[login.email] = sub
        user = User(sub, login.email, login.name, login.language, UserStatus.ACTIVE, now)
        if login.groups:
            store.create_user(
                replace(user, totp_enabled=True, totp_secret=sealer.seal(STAFF_TOTP_SECRET, TOTP_PURPOSE))
            )
            continue
        context.account_ids[login.email] = []
        for index, demo in enumerate(login.accounts):
            account = AccountProfile(
                account_id=new_ulid(),
                name=demo.name,
                language=demo.language,
                currency=demo.currency,
                notice_email=login.email,
                owner_user_id=sub,
                created_at=now,
                company=demo.company,
            )
            owner = Membership(
                account.account_id,
                sub,
                Role.OWNER,
                ALL_PERMISSIONS,
                account.name,
                user_email=login.email,
                user_name=login.name,
            )
            if index == 0:
                _confirmed_signup(store, user, account, owner)
            else:
                store.add_account(account, owner)
            context.account_ids[login.email].append(account.account_id)


def confirmed_cognito_user(cognito: Any, pool: str, email: str, name: str, password: str) -> str:
    """A confirmed Cognito user with a permanent password (no invitation email); its sub."""
    created = cognito.admin_create_user(
        UserPoolId=pool,
        Username=email,
        UserAttributes=[
            {"Name": "email", "Value": email},
            {"Name": "email_verified", "Value": "true"},
            {"Name": "name", "Value": name},
        ],
        MessageAction="SUPPRESS",
    )["User"]
    sub = str(next(a["Value"] for a in created["Attributes"] if a["Name"] == "sub"))
    cognito.admin_set_user_password(UserPoolId=pool, Username=sub, Password=password, Permanent=True)
    return sub


def _confirmed_signup(store: Any, user: Any, account: Any, owner: Any) -> None:
    """The records sign-up and its confirmation leave (user, first account, owner membership), without the code."""
    from dataclasses import replace

    from balcao.domain import totp
    from balcao.domain.identity import CodePurpose, OneTimeCode, UserStatus

    code = OneTimeCode(
        CodePurpose.SIGNUP, user.email, totp.hash_code(CodePurpose.SIGNUP, user.email, "seed"), user.created_at
    )
    store.create_signup(replace(user, status=UserStatus.UNCONFIRMED), account, owner, code, [])
    store.delete_code(CodePurpose.SIGNUP, user.email)
    store.confirm_user(user.user_id, [])


def seed_customer(
    environment: dict[str, str], email: str, name: str, password: str, language: str = "pt-BR", currency: str = "BRL"
) -> str:
    """A customer as a confirmed sign-up leaves them (Cognito user with ``password``, user, one account they own),
    written directly, without the emails; the account's id. The bench makes its customers this way."""
    from balcao.adapters.clock import app_clock
    from balcao.domain.accounts import ALL_PERMISSIONS, AccountProfile, Membership, Role
    from balcao.domain.identity import User, UserStatus
    from balcao.domain.ids import new_ulid
    from balcao.runtime.composition import identity_store

    sub = confirmed_cognito_user(boto3.client("cognito-idp"), environment["USER_POOL_ID"], email, name, password)
    now = app_clock().now()
    user = User(sub, email, name, language, UserStatus.ACTIVE, now)
    account = AccountProfile(
        account_id=new_ulid(),
        name=name,
        language=language,
        currency=currency,
        notice_email=email,
        owner_user_id=sub,
        created_at=now,
    )
    owner = Membership(
        account.account_id, sub, Role.OWNER, ALL_PERMISSIONS, account.name, user_email=email, user_name=name
    )
    _confirmed_signup(identity_store(), user, account, owner)
    return account.account_id


def seed_tickets(context: SeedContext) -> None:
    """Open tickets: Ana's Brazilian account waits for an answer, her Spanish account was answered, Bruno replied
    to a staff answer (with an internal note). Written through the ticket store, without events (no emails)."""
    from dataclasses import replace
    from datetime import timedelta

    from balcao.adapters.clock import app_clock
    from balcao.domain.ids import new_ulid
    from balcao.domain.tickets import (
        MessageKind,
        Person,
        Ticket,
        TicketKind,
        TicketMessage,
        TicketPriority,
        TicketStatus,
        after_customer_reply,
        after_staff_reply,
    )
    from balcao.runtime.tickets_composition import ticket_store

    store = ticket_store()
    now = app_clock().now()
    staff = Person(context.user_ids["staff@example.com"], "Equipe Balcão", "staff@example.com", "en")
    ana = Person(context.user_ids["ana@example.com"], "Ana Souza", "ana@example.com", "pt-BR")
    bruno = Person(context.user_ids["bruno@example.com"], "Bruno Lima", "bruno@example.com", "pt-BR")
    brazilian, spanish = context.account_ids["ana@example.com"]
    demos = [
        # (account, name, number, customer, department, priority, subject, message, replies: (author, kind, text))
        (
            brazilian,
            "Ana Souza Design",
            "100001",
            ana,
            "technical_support",
            TicketPriority.HIGH,
            "Erro ao conectar ao banco de dados no site anasouza.com.br",
            'Desde hoje de manhã o site mostra "Error establishing a database connection".\n'
            "Passos: abrir https://anasouza.com.br. Não mudei nada no painel.",
            [],
        ),
        (
            spanish,
            "Ana Souza Estudio",
            "100002",
            replace(ana, language="es"),
            "billing",
            TicketPriority.MEDIUM,
            "Duda sobre la factura de renovación",
            "¿La factura de renovación incluye el dominio o se paga aparte?",
            [
                (
                    staff,
                    MessageKind.STAFF,
                    "Hola, Ana: la renovación incluye el dominio. No tienes que pagar nada aparte.",
                )
            ],
        ),
        (
            context.account_ids["bruno@example.com"][0],
            "Bruno Lima",
            "100003",
            bruno,
            "technical_support",
            TicketPriority.LOW,
            "E-mails indo para o spam no Outlook",
            "Os e-mails que envio para clientes com Outlook estão caindo na caixa de spam.",
            [
                (staff, MessageKind.STAFF, "Olá, Bruno! Configuramos SPF e DKIM no seu domínio. Pode testar de novo?"),
                (staff, MessageKind.NOTE, "DKIM publicado às 10h; se continuar, verificar reputação do IP."),
                (bruno, MessageKind.CUSTOMER, "Testei agora e ainda foi para o spam."),
            ],
        ),
    ]
    for account_id, account_name, number, customer, department, priority, subject, message, replies in demos:
        opened_at = now - timedelta(days=2)
        ticket = Ticket(
            ticket_id=new_ulid(),
            account_id=account_id,
            account_name=account_name,
            number=number,
            kind=TicketKind.ISSUE,
            department=department,
            subject=subject,
            status=TicketStatus.OPEN,
            priority=priority,
            opened_by=customer,
            created_at=opened_at,
            last_activity_at=opened_at,
            waiting_since=opened_at,
        )
        first = TicketMessage(
            new_ulid(), ticket.ticket_id, account_id, MessageKind.CUSTOMER, customer, message, opened_at
        )
        store.open_ticket(ticket, first, [], [])
        ticket = replace(ticket, version=1)
        for hours, (author, kind, text) in enumerate(replies, start=1):
            at = opened_at + timedelta(hours=hours)
            after = None
            if kind is MessageKind.STAFF:
                after = after_staff_reply(ticket, at)
            elif kind is MessageKind.CUSTOMER:
                after = after_customer_reply(ticket, at)
            store.add_message(
                ticket, after, TicketMessage(new_ulid(), ticket.ticket_id, account_id, kind, author, text, at), [], []
            )
            if after is not None:
                ticket = replace(after, version=ticket.version + 1)
        context.facts.setdefault("tickets", []).append(f"#{number} {ticket.status.value}")


STEPS: list[Callable[[SeedContext], None]] = [
    seed_logins,
    # invoices
    seed_invoices,
    # tickets
    seed_tickets,
    # services
    seed_services,
    # payments
    seed_payments,
]


def run(environment: dict[str, str]) -> SeedContext:
    context = SeedContext(environment=environment)
    for step in STEPS:
        step(context)
    return context

"""Demo data for ``make run`` and the e2e suite: the logins of API.md and what each capability adds.

Every capability adds a step to ``STEPS``; steps run in order and share a ``SeedContext``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import boto3

DEMO_PASSWORD = "Balcao-demo-2026!"
STAFF_TOTP_SECRET = "JBSWY3DPEHPK3PXP"  # local-only; printed in the banner


@dataclass(frozen=True)
class DemoLogin:
    email: str
    name: str
    language: str
    groups: tuple[str, ...] = ()


DEMO_LOGINS = (
    DemoLogin("ana@example.com", "Ana Souza", "pt-BR"),
    DemoLogin("bruno@example.com", "Bruno Lima", "pt-BR"),
    DemoLogin("staff@example.com", "Equipe Balcão", "en", ("staff_admin",)),
)


@dataclass
class SeedContext:
    environment: dict[str, str]
    user_ids: dict[str, str] = field(default_factory=dict)  # email → Cognito sub
    facts: dict[str, Any] = field(default_factory=dict)  # what steps want to print or share


def seed_logins(context: SeedContext) -> None:
    """Cognito users with the demo password, confirmed; staff in its group."""
    cognito = boto3.client("cognito-idp")
    pool = context.environment["USER_POOL_ID"]
    for login in DEMO_LOGINS:
        user = cognito.admin_create_user(
            UserPoolId=pool,
            Username=login.email,
            UserAttributes=[
                {"Name": "email", "Value": login.email},
                {"Name": "email_verified", "Value": "true"},
                {"Name": "name", "Value": login.name},
            ],
            MessageAction="SUPPRESS",
        )["User"]
        sub = next(a["Value"] for a in user["Attributes"] if a["Name"] == "sub")
        cognito.admin_set_user_password(UserPoolId=pool, Username=sub, Password=DEMO_PASSWORD, Permanent=True)
        for group in login.groups:
            cognito.admin_add_user_to_group(UserPoolId=pool, Username=sub, GroupName=group)
        context.user_ids[login.email] = sub


STEPS: list[Callable[[SeedContext], None]] = [seed_logins]


def run(environment: dict[str, str]) -> SeedContext:
    context = SeedContext(environment=environment)
    for step in STEPS:
        step(context)
    return context

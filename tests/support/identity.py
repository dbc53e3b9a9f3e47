"""Given-steps for identity: users, accounts, memberships and live sessions written straight to the table, and the
claims API Gateway would hand over for them."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from balcao.adapters.dynamodb.accounts import account_item, member_item
from balcao.adapters.dynamodb.identity import DynamoIdentityStore
from balcao.domain.accounts import ALL_PERMISSIONS, AccountProfile, Membership, Permission, Role
from balcao.domain.identity import Session, SessionKind
from balcao.domain.ids import new_ulid
from support.events import claims_for

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


@dataclass
class Caller:
    user_id: str
    email: str
    session_key: str
    groups: tuple[str, ...] = ()

    @property
    def claims(self) -> dict[str, str]:
        return claims_for(self.user_id, self.email, groups=self.groups, session_key=self.session_key)


def given_session(
    user_id: str,
    email: str,
    *,
    mfa_passed: bool = False,
    groups: tuple[str, ...] = (),
    now: datetime = NOW,
    language: str = "en",
) -> Caller:
    key = str(uuid.uuid4())
    DynamoIdentityStore().create_session(
        Session(
            session_key=key,
            session_id=new_ulid(),
            user_id=user_id,
            email=email,
            language=language,
            kind=SessionKind.API,
            created_at=now,
            last_seen_at=now,
            expires_at=now + timedelta(days=30),
            mfa_passed=mfa_passed,
            is_staff=bool(groups),
        ),
        None,
        [],
    )
    return Caller(user_id, email, key, groups)


def given_staff(role: str = "staff_admin", *, mfa_passed: bool = True, language: str = "en") -> Caller:
    return given_session(
        f"staff-{role}", f"{role}@staff.example", mfa_passed=mfa_passed, groups=(role,), language=language
    )


def given_account(
    owner_id: str,
    *,
    name: str = "Loja da Ana",
    language: str = "pt-BR",
    currency: str = "BRL",
    email: str = "owner@example.com",
) -> str:
    account_id = new_ulid()
    account_item(
        AccountProfile(
            account_id=account_id,
            name=name,
            language=language,
            currency=currency,
            notice_email=email,
            owner_user_id=owner_id,
            created_at=NOW,
        )
    ).save()
    member_item(Membership(account_id, owner_id, Role.OWNER, ALL_PERMISSIONS, name, user_email=email), NOW).save()
    return account_id


def given_member(
    account_id: str,
    user_id: str,
    permissions: set[Permission],
    *,
    service_id: str | None = None,
    email: str = "member@example.com",
) -> None:
    role = Role.DELEGATE if service_id else Role.MEMBER
    member_item(
        Membership(account_id, user_id, role, frozenset(permissions), "Loja", service_id=service_id, user_email=email),
        NOW,
    ).save()

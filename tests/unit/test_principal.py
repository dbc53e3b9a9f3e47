"""The principal from the authorizer's claims, and staff roles."""

from __future__ import annotations

import pytest

from balcao.domain.errors import UnauthenticatedError
from balcao.domain.principal import Principal, StaffRole
from balcao.runtime.auth import parse_groups, principal_from_claims
from support.events import claims_for


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("staff_admin", {"staff_admin"}), ("a,b", {"a", "b"}), ("[a b]", {"a", "b"}), (["a"], {"a"}), (None, set())],
)
def test_groups_in_every_shape_api_gateway_uses(raw, expected):
    assert parse_groups(raw) == frozenset(expected)


def test_an_id_token_gives_the_user():
    claims = claims_for("user-1", "ana@example.com", groups=("staff_support",), session_key="jti-1", issued_at=1000)
    principal = principal_from_claims(claims, now_epoch=1000 + 60)
    assert principal == Principal("user-1", "ana@example.com", frozenset({"staff_support"}), "jti-1")
    assert principal.is_staff and principal.staff_roles == {StaffRole.SUPPORT}


def test_an_id_token_lives_15_minutes_whatever_cognito_says():
    claims = claims_for("user-1", issued_at=1000)
    principal_from_claims(claims, now_epoch=1000 + 15 * 60)
    with pytest.raises(UnauthenticatedError):
        principal_from_claims(claims, now_epoch=1000 + 15 * 60 + 1)


def test_access_tokens_and_future_tokens_are_refused():
    with pytest.raises(UnauthenticatedError):
        principal_from_claims({**claims_for("u", issued_at=1000), "token_use": "access"}, now_epoch=1001)
    with pytest.raises(UnauthenticatedError):
        principal_from_claims(claims_for("u", issued_at=2000), now_epoch=1000)
    with pytest.raises(UnauthenticatedError):
        principal_from_claims({}, now_epoch=1000)


def test_admins_may_do_what_any_staff_role_may():
    admin = Principal("a", "a@x", frozenset({"staff_admin"}))
    finance = Principal("f", "f@x", frozenset({"staff_finance"}))
    customer = Principal("c", "c@x")
    assert admin.has_staff_role(frozenset({StaffRole.FINANCE}))
    assert finance.has_staff_role(frozenset({StaffRole.FINANCE}))
    assert not finance.has_staff_role(frozenset({StaffRole.SUPPORT}))
    assert not customer.has_staff_role(frozenset({StaffRole.SUPPORT}))

"""The principal from API Gateway's Cognito authorizer claims.

API Gateway verified the ID token's signature, audience and expiry; moto issues 1-hour tokens whatever the pool
says, so the loader also enforces the 15-minute ID-token life from ``iat`` on the wall clock (cryptographic
freshness is wall time, never the application clock).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from balcao.domain.errors import UnauthenticatedError
from balcao.domain.principal import Principal

ID_TOKEN_LIFETIME_SECONDS = 15 * 60
CLOCK_SKEW_SECONDS = 30


def parse_groups(raw: object) -> frozenset[str]:
    """``cognito:groups`` arrives stringified by API Gateway (``"a,b"`` or ``"[a b]"``) or as a list in tests."""
    if raw is None:
        return frozenset()
    if isinstance(raw, list | tuple | set | frozenset):
        return frozenset(str(g) for g in raw)
    text = str(raw).strip().strip("[]")
    return frozenset(part for part in text.replace(",", " ").split() if part)


def principal_from_claims(claims: Mapping[str, Any] | None, now_epoch: float | None = None) -> Principal:
    """A principal from the authorizer's claims; 401 when absent, not an ID token, or older than its life."""
    if not claims or not claims.get("sub"):
        raise UnauthenticatedError()
    if claims.get("token_use", "id") != "id":
        raise UnauthenticatedError()
    now = time.time() if now_epoch is None else now_epoch
    try:
        issued_at = int(claims["iat"])
    except (KeyError, TypeError, ValueError):
        raise UnauthenticatedError() from None
    if now - issued_at > ID_TOKEN_LIFETIME_SECONDS or issued_at - now > CLOCK_SKEW_SECONDS:
        raise UnauthenticatedError()
    return Principal(
        user_id=str(claims["sub"]),
        email=str(claims.get("email", "")),
        groups=parse_groups(claims.get("cognito:groups")),
        session_key=str(claims["origin_jti"]) if claims.get("origin_jti") else None,
    )

"""Building the identity use-cases with their adapters, once per container (handlers and the portal share it)."""

from __future__ import annotations

from functools import cache

from balcao.adapters.clock import WallClock, app_clock
from balcao.adapters.cognito import CognitoIdentityProvider, JwtClaims
from balcao.adapters.crypto import Sealer
from balcao.adapters.dynamodb.identity import DynamoIdentityStore, DynamoRateLimiter
from balcao.adapters.dynamodb.settings import DynamoSettingsStore
from balcao.adapters.secrets import secret_value
from balcao.runtime.settings import load_settings
from balcao.services.accounts import Accounts
from balcao.services.auth import Auth
from balcao.services.company_settings import CompanySettingsView, load_company_settings


@cache
def identity_store() -> DynamoIdentityStore:
    return DynamoIdentityStore()


@cache
def settings_store() -> DynamoSettingsStore:
    return DynamoSettingsStore()


@cache
def rate_limiter() -> DynamoRateLimiter:
    return DynamoRateLimiter()


def company() -> CompanySettingsView:
    return load_company_settings(settings_store())


def identity_provider() -> CognitoIdentityProvider:
    return _provider()


@cache
def _provider() -> CognitoIdentityProvider:
    settings = load_settings()
    return CognitoIdentityProvider(
        settings.user_pool_id,
        settings.user_pool_client_id,
        lambda: secret_value(settings.app_client_secret_id),
        revoke_locally=settings.is_local,
    )


@cache
def _sealer() -> Sealer:
    settings = load_settings()
    return Sealer(lambda: secret_value(settings.totp_key_secret_id))


def auth() -> Auth:
    current = company()
    return Auth(
        store=identity_store(),
        provider=_provider(),
        claims=JwtClaims(),
        sealer=_sealer(),
        clock=app_clock(),
        wall=WallClock(),
        default_currency=current.locale.default_currency,
        brand_name=current.brand.name,
    )


def accounts() -> Accounts:
    return Accounts(identity_store(), app_clock())

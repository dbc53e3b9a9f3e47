"""Typed settings from the environment, validated once and cached.

template.yaml's ``Globals.Environment`` gives every function the same set of names (locally all functions share
one interpreter and one ``os.environ``). Resource names have no defaults: a missing one fails at first use.
"""

from __future__ import annotations

import os
from enum import StrEnum
from functools import cache

from pydantic import BaseModel, ConfigDict, Field


class PaymentsMode(StrEnum):
    PROVIDERS = "providers"
    LOCAL = "local"  # only the devstack sets this; template.yaml never does


class Settings(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="ignore", frozen=True)

    stage: str = Field(alias="STAGE")
    table_name: str = Field(alias="TABLE_NAME")
    idempotency_table_name: str = Field(alias="IDEMPOTENCY_TABLE_NAME")
    documents_bucket: str = Field(alias="DOCUMENTS_BUCKET")
    attachments_bucket: str = Field(alias="ATTACHMENTS_BUCKET")
    event_bus_name: str = Field(alias="EVENT_BUS_NAME")
    sender_address: str = Field(alias="SENDER_ADDRESS")
    ses_configuration_set: str = Field(alias="SES_CONFIGURATION_SET")
    public_base_url: str = Field(alias="PUBLIC_BASE_URL")
    user_pool_id: str = Field(alias="USER_POOL_ID")
    user_pool_client_id: str = Field(alias="USER_POOL_CLIENT_ID")
    app_client_secret_id: str = Field(alias="APP_CLIENT_SECRET_ID")
    totp_key_secret_id: str = Field(alias="TOTP_KEY_SECRET_ID")
    dunning_state_machine_arn: str = Field(alias="DUNNING_STATE_MACHINE_ARN")
    payments_mode: PaymentsMode = Field(default=PaymentsMode.PROVIDERS, alias="PAYMENTS_MODE")
    # Provider keys (JSON secrets, no value in template.yaml): a provider without its keys fails closed.
    stripe_secret_id: str = Field(alias="STRIPE_SECRET_ID")
    mercadopago_secret_id: str = Field(alias="MERCADOPAGO_SECRET_ID")
    secure_cookies: bool = Field(default=True, alias="SECURE_COOKIES")
    # The control panel (cPanel/WHM): no URL means none is configured (provisioning fails visibly); the local stack
    # uses the simulated panel whatever these say.
    whm_base_url: str = Field(default="", alias="WHM_BASE_URL")
    whm_username: str = Field(default="root", alias="WHM_USERNAME")
    whm_token_secret_id: str = Field(default="", alias="WHM_TOKEN_SECRET_ID")

    @property
    def is_local(self) -> bool:
        return self.payments_mode is PaymentsMode.LOCAL


@cache
def load_settings() -> Settings:
    return Settings.model_validate(dict(os.environ))

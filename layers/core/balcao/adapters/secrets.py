"""Secrets from Secrets Manager through Powertools parameters, cached in the container (5 minutes)."""

from __future__ import annotations

SECRET_MAX_AGE_SECONDS = 300


def secret_value(secret_id: str) -> str:
    from aws_lambda_powertools.utilities import parameters

    value = parameters.get_secret(secret_id, max_age=SECRET_MAX_AGE_SECONDS)
    return value if isinstance(value, str) else bytes(value).decode()

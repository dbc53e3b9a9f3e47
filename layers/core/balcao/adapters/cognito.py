"""Cognito holds passwords, nothing else. The backend always calls it with ``USERNAME=<sub>`` and
``SECRET_HASH = base64(HMAC-SHA256(client secret, sub + client id))`` — password login and refresh alike (AWS
needs the sub for refresh; moto checks the login string on refresh, so only the sub works in both). Sign-up is the
one call that names the email (the pool signs users in by email). The pool never sends mail.

RevokeToken is called on AWS; moto lacks it, so on the local stack the call is recorded and skipped.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Callable
from typing import Any

from balcao.domain.errors import InvalidCredentialsError, UnauthenticatedError
from balcao.services.auth import IssuedTokens

# Revocations the local stack would have sent (moto has no RevokeToken); tests read it.
RECORDED_REVOCATIONS: list[str] = []


def unverified_claims(token: str) -> dict[str, Any]:
    """The payload of a JWT we just received from Cognito over TLS (so not re-verified here)."""
    import json

    payload = token.split(".")[1]
    decoded: dict[str, Any] = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return decoded


class JwtClaims:
    def origin_jti(self, id_token: str) -> str:
        return str(unverified_claims(id_token)["origin_jti"])


def secret_hash(client_secret: str, username: str, client_id: str) -> str:
    digest = hmac.new(client_secret.encode(), (username + client_id).encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


class CognitoIdentityProvider:
    def __init__(self, pool_id: str, client_id: str, client_secret: Callable[[], str], *, revoke_locally: bool) -> None:
        self._pool_id = pool_id
        self._client_id = client_id
        self._client_secret = client_secret
        self._revoke_locally = revoke_locally
        self._client: Any = None

    @property
    def client(self) -> Any:
        if self._client is None:
            import boto3

            self._client = boto3.client("cognito-idp")
        return self._client

    def _hash(self, username: str) -> str:
        return secret_hash(self._client_secret(), username, self._client_id)

    def sign_up(self, email: str, password: str, name: str) -> str:
        """Create an unconfirmed user; returns its sub. (The policy was checked before; Cognito checks again.)"""
        response = self.client.sign_up(
            ClientId=self._client_id,
            SecretHash=self._hash(email),
            Username=email,
            Password=password,
            UserAttributes=[{"Name": "email", "Value": email}, {"Name": "name", "Value": name}],
        )
        return str(response["UserSub"])

    def confirm(self, user_id: str) -> None:
        self.client.admin_confirm_sign_up(UserPoolId=self._pool_id, Username=user_id)
        self.client.admin_update_user_attributes(
            UserPoolId=self._pool_id, Username=user_id, UserAttributes=[{"Name": "email_verified", "Value": "true"}]
        )

    def authenticate(self, user_id: str, password: str) -> IssuedTokens:
        errors = self.client.exceptions
        try:
            response = self.client.initiate_auth(
                ClientId=self._client_id,
                AuthFlow="USER_PASSWORD_AUTH",
                AuthParameters={"USERNAME": user_id, "PASSWORD": password, "SECRET_HASH": self._hash(user_id)},
            )
        except (errors.NotAuthorizedException, errors.UserNotFoundException, errors.UserNotConfirmedException):
            raise InvalidCredentialsError() from None
        if "AuthenticationResult" not in response:
            raise InvalidCredentialsError()  # a challenge we never enable (Cognito MFA stays off)
        result = response["AuthenticationResult"]
        return IssuedTokens(
            result["IdToken"], result["AccessToken"], int(result["ExpiresIn"]), result.get("RefreshToken")
        )

    def refresh(self, user_id: str, refresh_token: str) -> IssuedTokens:
        errors = self.client.exceptions
        try:
            response = self.client.initiate_auth(
                ClientId=self._client_id,
                AuthFlow="REFRESH_TOKEN_AUTH",
                AuthParameters={"REFRESH_TOKEN": refresh_token, "SECRET_HASH": self._hash(user_id)},
            )
        except (errors.NotAuthorizedException, errors.UserNotFoundException):
            raise UnauthenticatedError() from None
        result = response["AuthenticationResult"]
        return IssuedTokens(result["IdToken"], result["AccessToken"], int(result["ExpiresIn"]))

    def revoke(self, refresh_token: str) -> None:
        if self._revoke_locally:
            RECORDED_REVOCATIONS.append(hashlib.sha256(refresh_token.encode()).hexdigest())
            return
        self.client.revoke_token(Token=refresh_token, ClientId=self._client_id, ClientSecret=self._client_secret())

    def set_password(self, user_id: str, password: str) -> None:
        self.client.admin_set_user_password(
            UserPoolId=self._pool_id, Username=user_id, Password=password, Permanent=True
        )

    def set_email(self, user_id: str, email: str) -> None:
        self.client.admin_update_user_attributes(
            UserPoolId=self._pool_id,
            Username=user_id,
            UserAttributes=[{"Name": "email", "Value": email}, {"Name": "email_verified", "Value": "true"}],
        )

    def delete(self, user_id: str) -> None:
        try:
            self.client.admin_delete_user(UserPoolId=self._pool_id, Username=user_id)
        except self.client.exceptions.UserNotFoundException:
            return

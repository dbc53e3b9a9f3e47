"""The Cognito authorizer's token check, against moto's JWKS (a fixed key pair shared by every pool)."""

from __future__ import annotations

import gzip
import json
from importlib import resources as package_resources
from typing import Any

import jwt


class TokenVerifier:
    def __init__(self, pool_id: str, client_id: str, region: str) -> None:
        self.issuer = f"https://cognito-idp.{region}.amazonaws.com/{pool_id}"
        self.client_id = client_id
        keys = json.loads(
            gzip.decompress(
                package_resources.files("moto.cognitoidp").joinpath("resources/jwks-public.json.gz").read_bytes()
            )
        )
        self._keys = {key["kid"]: jwt.PyJWK(key).key for key in keys["keys"]}

    def verify(self, token: str) -> dict[str, Any]:
        if not token:
            raise jwt.InvalidTokenError("no token")
        header = jwt.get_unverified_header(token)
        key = self._keys.get(header.get("kid", ""))
        if key is None:
            raise jwt.InvalidTokenError("unknown key")
        claims: dict[str, Any] = jwt.decode(
            token,
            key,
            algorithms=["RS256"],
            audience=self.client_id,
            issuer=self.issuer,
            options={"require": ["exp", "iat", "sub"]},
        )
        if claims.get("token_use") != "id":
            raise jwt.InvalidTokenError("the authorizer accepts ID tokens")
        return claims

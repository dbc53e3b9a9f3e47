"""Sealing small secrets at rest (TOTP secrets, tokens of a pending login): AES-256-GCM with a key derived from
a Secrets Manager secret. The output is ``v1.<nonce>.<ciphertext>`` in URL-safe base64; the purpose is bound as
associated data, so a value sealed for one purpose cannot be opened for another."""

from __future__ import annotations

import base64
import hashlib
import os
from collections.abc import Callable
from typing import TYPE_CHECKING

from balcao.domain.errors import BalcaoError

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

VERSION = "v1"


class SealBrokenError(BalcaoError):
    """A sealed value could not be opened (tampered, or sealed with another key or purpose)."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Sealer:
    def __init__(self, key_material: Callable[[], str]) -> None:
        self._key_material = key_material
        self._key: bytes | None = None

    def _aead(self) -> AESGCM:
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        if self._key is None:
            self._key = hashlib.sha256(self._key_material().encode()).digest()
        return AESGCM(self._key)

    def seal(self, plaintext: str, purpose: str) -> str:
        nonce = os.urandom(12)
        sealed = self._aead().encrypt(nonce, plaintext.encode(), purpose.encode())
        return f"{VERSION}.{_b64(nonce)}.{_b64(sealed)}"

    def open(self, sealed: str, purpose: str) -> str:
        from cryptography.exceptions import InvalidTag

        try:
            version, nonce, body = sealed.split(".")
            if version != VERSION:
                raise ValueError(version)
            return str(self._aead().decrypt(_unb64(nonce), _unb64(body), purpose.encode()).decode())
        except (ValueError, InvalidTag):
            raise SealBrokenError() from None

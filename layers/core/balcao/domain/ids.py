"""ULIDs: 48-bit millisecond timestamp + 80 random bits, Crockford base32, 26 characters, sortable by time.

The timestamp is creation order (wall time), not business time: business dates live in their own attributes.
"""

from __future__ import annotations

import os
import re
import threading
import time

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
ULID_PATTERN = r"^[0-9A-HJKMNP-TV-Z]{26}$"
_ULID_RE = re.compile(ULID_PATTERN)
_lock = threading.Lock()
_last: tuple[int, int] = (0, 0)


def new_ulid() -> str:
    """A new ULID, strictly increasing within this process (monotonic random part in the same millisecond)."""
    global _last
    with _lock:
        ms = time.time_ns() // 1_000_000
        last_ms, last_rand = _last
        if ms <= last_ms:
            ms, rand = last_ms, last_rand + 1
        else:
            rand = int.from_bytes(os.urandom(10), "big") >> 1  # leave head-room for increments
        _last = (ms, rand)
    value = (ms << 80) | rand
    return "".join(_ALPHABET[(value >> shift) & 31] for shift in range(125, -1, -5))


def is_ulid(value: str) -> bool:
    return bool(_ULID_RE.match(value))


def ulid_time_ms(value: str) -> int:
    """The millisecond timestamp inside a ULID."""
    number = 0
    for char in value:
        number = number * 32 + _ALPHABET.index(char)
    return number >> 80

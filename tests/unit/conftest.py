"""Unit tests: domain and services with in-memory fakes. No sockets, no AWS, milliseconds."""

from __future__ import annotations

import pytest
from pytest_socket import disable_socket


def pytest_runtest_setup(item: pytest.Item) -> None:
    disable_socket(allow_unix_socket=True)

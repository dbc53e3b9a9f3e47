"""e2e: the devstack in-process (shared), driven over HTTP as a customer would.

Tests that move the clock use ``private_devstack`` (their own devstack in a subprocess), never the shared one.
Tests read ``/_dev/mail.json?to=`` for their own recipients only.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
from collections.abc import Iterator

import pytest

from support.stack_client import StackClient


@pytest.fixture(scope="session")
def devstack() -> Iterator[object]:
    from devstack.stack import DevStack

    stack = DevStack(port=0).start()
    yield stack
    stack.stop()


@pytest.fixture(scope="session")
def client(devstack) -> StackClient:
    return StackClient(devstack.url)


class PrivateDevstack:
    """A devstack of one's own, in a subprocess (moto's state is process-wide)."""

    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "devstack", "serve", "--port", "0"],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        self.output: list[str] = []
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.output.append(line)
            found = re.search(r"running on (http://127\.0\.0\.1:\d+)", line)
            if found:
                self.client = StackClient(found.group(1))
                # Keep reading its logs: a full pipe would block every thread of the devstack that logs.
                threading.Thread(target=self._drain, name="private-devstack-output", daemon=True).start()
                return
        raise RuntimeError("the private devstack did not start:\n" + "".join(self.output[-40:]))

    def _drain(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.output.append(line)
            del self.output[:-200]

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()


@pytest.fixture(scope="module")
def private_devstack() -> Iterator[StackClient]:
    stack = PrivateDevstack()
    yield stack.client
    stack.stop()

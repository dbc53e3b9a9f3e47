"""A lazily imported module runs its code when first used, and is then the module every import gets."""

from __future__ import annotations

import subprocess
import sys

PROBE = """
import sys
from balcao.runtime.lazy import lazy_module
pages = lazy_module("balcao.web.views.payments")
before = "balcao.services.payments" in sys.modules
pages.pay_page  # first use
after = "balcao.services.payments" in sys.modules
from balcao.web.views import payments
print(before, after, payments is pages)
"""


def test_a_lazy_module_runs_when_first_used_and_is_the_module_imports_get() -> None:
    # Given a fresh interpreter, as a cold start
    # When the portal's payment pages are declared lazily, then used, then imported as usual
    answer = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, check=True)

    # Then nothing of them ran before the first use, all of it after, and the import is the same module
    assert answer.stdout.split() == ["False", "True", "True"]


RACE = """
import threading
from balcao.runtime.lazy import lazy_module
start, found = threading.Barrier(8), []
def declare_and_use():
    start.wait()
    pages = lazy_module("balcao.web.views.profile")
    try:
        found.append((id(pages), callable(pages.show)))
    except Exception as error:
        found.append((id(pages), type(error).__name__))
threads = [threading.Thread(target=declare_and_use) for _ in range(8)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
print(len({module for module, _ in found}), sorted({str(outcome) for _, outcome in found}))
"""


def test_containers_declaring_one_lazy_module_at_once_share_it_and_each_can_use_it() -> None:
    # Given a fresh interpreter where eight threads declare the same lazy module at the same moment (the local
    # stack loads a function's containers side by side)
    answer = subprocess.run([sys.executable, "-c", RACE], capture_output=True, text=True, check=True)

    # Then they got one module, and using it works in every thread
    assert answer.stdout.split(maxsplit=1) == ["1", "['True']\n"]

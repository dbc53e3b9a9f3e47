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

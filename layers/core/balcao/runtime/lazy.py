"""Modules executed when first used: a function with many routes (the portal) imports for a cold start only what
the request it answers needs.

    if TYPE_CHECKING:
        from balcao.web.views import payments as payment_pages
    else:
        payment_pages = lazy_module("balcao.web.views.payments")

The module object exists at once; its code runs when one of its attributes is first read (``importlib.util.
LazyLoader``, thread-safe since Python 3.12.3). An import of the same module elsewhere gets the same object.
Declaring is thread-safe too: threads declaring one module at once get one object (with two, the loser's first use
would fail, as the loader refuses a module substituted in ``sys.modules``).
"""

from __future__ import annotations

import importlib.util
import sys
import threading
from types import ModuleType

_DECLARING = threading.RLock()  # finding a spec imports the parent package, which may declare lazily too


def lazy_module(name: str) -> ModuleType:
    with _DECLARING:
        if name in sys.modules:
            return sys.modules[name]
        spec = importlib.util.find_spec(name)
        if spec is None or spec.loader is None:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        spec.loader = importlib.util.LazyLoader(spec.loader)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
        return module

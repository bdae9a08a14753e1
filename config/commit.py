"""Side effects after a transaction commits, which must never undo or break it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import transaction


def after_commit(func: Callable[..., object], *args: Any, **kwargs: Any) -> None:
    """Call ``func(*args, **kwargs)`` once the current transaction commits; a failure is logged, not raised.

    Django logs a robust callback's failure by its ``__qualname__``, which ``functools.partial`` lacks: a
    partial that failed (a broadcast while Redis is away) raised AttributeError out of the commit instead.
    """

    def call() -> None:
        func(*args, **kwargs)

    call.__qualname__ = getattr(func, "__qualname__", repr(func))
    transaction.on_commit(call, robust=True)

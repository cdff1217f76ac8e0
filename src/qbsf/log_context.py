"""Which company a log line is about, wherever in the code it is written.

One process may serve many companies (``qbsf serve``, ``qbsf qbwc serve --sync …``). Where a company's work starts
— its sync engine's thread, a Web Connector call once its ticket or user names the company — the company is set in
the running context (:func:`enter_company`, :func:`company_context`), and qbsf's log formatter adds ``company=NAME``
to every line written in that context (qbsf.app.logging). Only the company's name goes there, never a secret.

A thread starts with an empty context: code that starts a thread for a company's work runs it in a copy of its own
context (:func:`in_current_context`).
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Callable, Iterator
from typing import Any

_COMPANY: contextvars.ContextVar[str | None] = contextvars.ContextVar("qbsf_company", default=None)


def current_company() -> str | None:
    """The company the running code works for, if one was set."""
    return _COMPANY.get()


def enter_company(company: str | None) -> None:
    """From here on in the running context, log lines name ``company`` (for code that runs in a context of its own,
    such as one Web Connector call)."""
    _COMPANY.set(company)


@contextlib.contextmanager
def company_context(company: str | None) -> Iterator[None]:
    """Log lines inside the block name ``company``."""
    token = _COMPANY.set(company)
    try:
        yield
    finally:
        _COMPANY.reset(token)


def in_current_context(target: Callable[..., Any]) -> Callable[..., Any]:
    """``target`` bound to a copy of the caller's context: a thread started with it logs for the same company."""
    context = contextvars.copy_context()

    def run(*args: Any, **kwargs: Any) -> Any:
        return context.run(target, *args, **kwargs)

    return run

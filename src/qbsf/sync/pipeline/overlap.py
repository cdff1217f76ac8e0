"""Salesforce work beside QuickBooks work: what a Salesforce → QuickBooks pass overlaps, and what stays in order.

QuickBooks is one connection that answers one message at a time, and a batch keeps it busy for seconds (a few
milliseconds a request, 1,000 requests a batch). A pass that read a Salesforce page, wrote it to QuickBooks and then
wrote the ids back would leave Salesforce idle while QuickBooks works, and QuickBooks idle while Salesforce answers.
So two kinds of Salesforce work run on a thread of their own while the pass goes on, each at most one at a time:

- **the next page of a read** (:func:`read_ahead`): asked for as soon as the page before is handed to the pass, so
  it is there when the pass wants it. The pass holds at most a batch, the page it syncs and the one read ahead. A
  read that fails raises where the pass asks for that page, as it did when the page was read then.
- **the write-back of a batch** (:class:`Job`, see :mod:`qbsf.sync.write_back`): the QuickBooks ids go to
  Salesforce while the next batch goes to QuickBooks.

What never moves (the crash contract rests on it): a job only talks to Salesforce — the local state is read and
written by the pass's own thread alone; the journal is written before QuickBooks is sent an Add; a batch is recorded
locally before its write-back is sent; a write-back is finished (its ids marked written back, the engine's own
versions remembered) before the next one is sent and before the poll of its entity ends, so the watermark moves past
the engine's own writes only once every one of them is known. QuickBooks stays strictly sequential: no job talks to
it.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Generic, TypeVar

from qbsf.log_context import in_current_context

T = TypeVar("T")

_END = object()


class Job(Generic[T]):
    """``work()`` running on a thread of its own (in a copy of the caller's context: log lines name the same
    company). :meth:`result` waits for it and returns its value, or raises its error in the caller's thread."""

    def __init__(self, work: Callable[[], T], *, name: str = "qbsf-salesforce") -> None:
        self._work = work
        self._value: T | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=in_current_context(self._run), name=name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            self._value = self._work()
        except BaseException as exc:  # handed to the waiting thread, which raises it
            self._error = exc

    @property
    def running(self) -> bool:
        """True while the work has not finished."""
        return self._thread.is_alive()

    def result(self) -> T:
        """Wait for the work; its value, or its error raised here."""
        self._thread.join()
        if self._error is not None:
            error, self._error = self._error, None
            raise error
        return self._value  # type: ignore[return-value]


def read_ahead(items: Iterable[T], *, name: str = "qbsf-read-ahead") -> Iterator[T]:
    """``items`` (pages of a read), each next one fetched on a thread of its own while the caller works on the one
    before: at most one item is read ahead. An error of the read is raised when the caller asks for the item it
    concerns. Closing the iterator waits for the item in flight and closes ``items``."""
    iterator = iter(items)

    def step() -> object:
        return next(iterator, _END)

    job: Job[object] | None = Job(step, name=name)
    try:
        while job is not None:
            current, job = job, None
            item = current.result()
            if item is _END:
                return
            job = Job(step, name=name)
            yield item  # type: ignore[misc]
    finally:
        if job is not None:
            with contextlib.suppress(Exception):
                job.result()  # the item read ahead and not wanted: let its call end before closing the read
        close = getattr(iterator, "close", None)
        if callable(close):
            close()

"""Logging for the connector: human ✓/✗/⚠ lines on the console, JSON lines in a rotating file, a ring buffer the
dashboard's Live Log streams from — and a redaction step in front of all three, so secrets never reach any of them.

Everything goes through the stdlib ``logging`` tree, so records from library layers (``logging.getLogger(__name__)``)
and from httpx/uvicorn get the same redaction and rendering as structlog events.

How to mark a line (the manual's style):

* structlog: ``log.info("Queried 13 QB Customers", mark="ok")`` → ``✓ Queried 13 QB Customers``
* stdlib:    ``log.info("Queried %d QB Customers", 13, extra={"mark": "ok"})``

``mark`` is ``ok`` (✓), ``fail`` (✗) or ``warn`` (⚠); without it warnings show ⚠ and errors ✗.
"""

from __future__ import annotations

import asyncio
import collections
import json
import logging
import logging.handlers
import re
import sys
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

import structlog

MASK = "********"
LOG_FILE_NAME = "qbsf.jsonl"
_HANDLER_TAG = "_qbsf_handler"

MARKS = {"ok": "✓", "fail": "✗", "warn": "⚠"}
_ASCII_MARKS = {"✓": "OK", "✗": "X", "⚠": "!"}
_LEVEL_MARKS = {"warning": "⚠", "error": "✗", "critical": "✗"}

# Keys whose values are secrets whatever they contain.
_SECRET_KEY = re.compile(
    r"(secret|passw|pwd|token|authorization|api[_-]?key|private[_-]?key|cookie|session[_-]?id|license[_-]?key"
    r"|credential|ticket|signature|assertion)", re.IGNORECASE)

# Patterns inside free text. Each keeps a recognisable prefix and masks the rest.
_TEXT_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # Salesforce session ids / access tokens: org id (00D + 12 or 15 chars) "!" opaque part
    (re.compile(r"00D[A-Za-z0-9]{12,15}![A-Za-z0-9._\-+/=]+"), "00D" + MASK),
    # Authorization headers and bearer credentials
    (re.compile(r"(?i)\b(authorization[\"']?\s*[:=]\s*[\"']?)(?:bearer\s+|basic\s+|oauth\s+)?[^\s\"',;}]+"),
     r"\1" + MASK),
    (re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._\-+/=!]{8,}"), r"\1 " + MASK),
    # key=value / "key": "value" pairs in query strings, form bodies, JSON and repr() output
    (re.compile(r"(?i)([\"']?\b[\w-]*(?:secret|password|passwd|token|api[_-]?key|private[_-]?key|assertion)"
                r"[\"']?\s*[:=]\s*[\"']?)([^\s\"'&,;}]+)"), r"\1" + MASK),
    # Web Connector SOAP credentials
    (re.compile(r"(?i)(<(?:\w+:)?strPassword>)[^<]*(</)"), r"\1" + MASK + r"\2"),
    # PEM private keys
    (re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?-----END [A-Z ]*PRIVATE KEY-----", re.DOTALL),
     "-----PRIVATE KEY " + MASK + "-----"),
    # JWTs (OAuth JWT bearer assertions, id tokens)
    (re.compile(r"\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}"), MASK),
)


class Redactor:
    """Masks secrets in log events: by key name, by pattern in text, and every literal value registered with
    :meth:`register` (the runtime registers the client secret and tokens it loads)."""

    def __init__(self) -> None:
        self._known: set[str] = set()
        self._lock = threading.Lock()

    def register(self, *values: str | None) -> None:
        """Mask these exact strings wherever they appear from now on (values under 6 chars are ignored)."""
        with self._lock:
            # Short values would mask ordinary words; secrets are long.
            self._known.update(v for v in values if v and len(v) >= 6)

    def clear(self) -> None:
        """Forget registered values (tests)."""
        with self._lock:
            self._known.clear()

    def text(self, value: str) -> str:
        """Redact one string."""
        for known in sorted(self._known, key=len, reverse=True):
            if known in value:
                value = value.replace(known, MASK)
        for pattern, repl in _TEXT_PATTERNS:
            value = pattern.sub(repl, value)
        return value

    def value(self, value: Any, key: str | None = None) -> Any:
        """Redact any JSON-ish value; ``key`` is the name it was stored under."""
        if key is not None and _SECRET_KEY.search(key) and value not in (None, "", False, True):
            return MASK
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, Mapping):
            return {k: self.value(v, str(k)) for k, v in value.items()}
        if isinstance(value, (list, tuple, set, frozenset)):
            return [self.value(v) for v in value]
        if isinstance(value, (int, float, bool)) or value is None:
            return value
        return self.text(repr(value) if not isinstance(value, BaseException) else f"{type(value).__name__}: {value}")

    def __call__(self, logger: Any, method: str, event_dict: dict[str, Any]) -> dict[str, Any]:
        """structlog processor."""
        return {k: (self.value(v, k) if k != "event" else self.value(v)) for k, v in event_dict.items()}


#: The process-wide redactor every handler uses.
redactor = Redactor()


# ---- ring buffer for the Live Log -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class LogEntry:
    """One rendered, redacted log line kept for the dashboard."""

    seq: int
    timestamp: str
    level: str
    mark: str
    event: str
    logger: str
    line: str
    fields: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form (what the SSE stream sends)."""
        return {"seq": self.seq, "timestamp": self.timestamp, "level": self.level, "mark": self.mark,
                "event": self.event, "logger": self.logger, "line": self.line, "fields": self.fields}


class LogBuffer:
    """The latest ``capacity`` log entries, with subscribers (thread-safe; async subscribers via their loop)."""

    def __init__(self, capacity: int = 1000) -> None:
        self._entries: collections.deque[LogEntry] = collections.deque(maxlen=capacity)
        self._seq = 0
        self._cond = threading.Condition()
        self._listeners: list[Callable[[LogEntry], None]] = []

    def append(self, **fields: Any) -> LogEntry:
        """Add an entry (the buffer handler calls this) and notify subscribers."""
        with self._cond:
            self._seq += 1
            entry = LogEntry(seq=self._seq, **fields)
            self._entries.append(entry)
            listeners = list(self._listeners)
            self._cond.notify_all()
        for listener in listeners:
            try:
                listener(entry)
            except Exception:  # a broken subscriber must never break logging
                self.unsubscribe(listener)
        return entry

    @property
    def last_seq(self) -> int:
        """Sequence number of the newest entry (0 when empty)."""
        return self._seq

    def since(self, seq: int = 0, limit: int | None = None) -> list[LogEntry]:
        """Entries newer than ``seq``, oldest first (at most the newest ``limit``)."""
        with self._cond:
            found = [e for e in self._entries if e.seq > seq]
        return found[-limit:] if limit else found

    def wait(self, seq: int, timeout: float) -> list[LogEntry]:
        """Block up to ``timeout`` seconds until there is an entry newer than ``seq``; return the new entries."""
        with self._cond:
            self._cond.wait_for(lambda: self._seq > seq, timeout=timeout)
        return self.since(seq)

    def subscribe(self, listener: Callable[[LogEntry], None]) -> Callable[[LogEntry], None]:
        """Call ``listener(entry)`` for every new entry, from the logging thread; returns it for unsubscribe."""
        with self._cond:
            self._listeners.append(listener)
        return listener

    def unsubscribe(self, listener: Callable[[LogEntry], None]) -> None:
        """Stop calling ``listener``."""
        with self._cond, _suppress_value_error():
            self._listeners.remove(listener)

    def subscribe_async(self, loop: asyncio.AbstractEventLoop | None = None, maxsize: int = 1000,
                        ) -> tuple[asyncio.Queue[LogEntry], Callable[[], None]]:
        """An asyncio queue fed with new entries, and the function that ends the subscription."""
        loop = loop or asyncio.get_running_loop()
        queue: asyncio.Queue[LogEntry] = asyncio.Queue(maxsize=maxsize)

        def put(entry: LogEntry) -> None:
            if queue.full():  # a slow browser drops old lines rather than growing memory
                return
            loop.call_soon_threadsafe(_put_nowait_quietly, queue, entry)

        self.subscribe(put)
        return queue, lambda: self.unsubscribe(put)


def _put_nowait_quietly(queue: asyncio.Queue[LogEntry], entry: LogEntry) -> None:
    if not queue.full():
        queue.put_nowait(entry)


class _suppress_value_error:
    def __enter__(self) -> None:
        return None

    def __exit__(self, exc_type: object, exc: object, tb: object) -> bool:
        return exc_type is ValueError


# ---- rendering ------------------------------------------------------------------------------------------------------

_META_KEYS = frozenset({"event", "level", "timestamp", "logger", "mark", "exception", "_record", "_from_structlog",
                        "exc_info", "stack_info", "stack"})


def _mark_of(event_dict: Mapping[str, Any]) -> str:
    mark = event_dict.get("mark")
    if mark in MARKS:
        return MARKS[mark]
    if isinstance(mark, str) and mark in MARKS.values():
        return mark
    return _LEVEL_MARKS.get(str(event_dict.get("level", "")).lower(), "")


def human_line(event_dict: Mapping[str, Any], ascii_only: bool = False) -> str:
    """``HH:MM:SS ✓ message key=value …`` (and the exception text on following lines)."""
    ts = str(event_dict.get("timestamp", ""))
    clock = ts[11:19] if len(ts) >= 19 else ts
    mark = _mark_of(event_dict)
    if ascii_only:
        mark = _ASCII_MARKS.get(mark, mark)
    extras = " ".join(f"{k}={v}" for k, v in event_dict.items() if k not in _META_KEYS)
    parts = [p for p in (clock, mark, str(event_dict.get("event", "")), extras) if p]
    line = " ".join(parts)
    if event_dict.get("exception"):
        line += "\n" + str(event_dict["exception"])
    return line


def _console_renderer(ascii_only: bool) -> Callable[[Any, str, dict[str, Any]], str]:
    def render(logger: Any, method: str, event_dict: dict[str, Any]) -> str:
        return human_line(event_dict, ascii_only)
    return render


def _json_renderer(logger: Any, method: str, event_dict: dict[str, Any]) -> str:
    return json.dumps(event_dict, default=str, ensure_ascii=False)


def _add_mark(logger: Any, method: str, event_dict: dict[str, Any]) -> dict[str, Any]:
    mark = _mark_of(event_dict)
    if mark:
        event_dict["mark"] = mark
    else:
        event_dict.pop("mark", None)
    return event_dict


class BufferHandler(logging.Handler):
    """Feeds a :class:`LogBuffer`; its formatter yields redacted JSON that is parsed back into an entry."""

    def __init__(self, buffer: LogBuffer) -> None:
        super().__init__()
        self.buffer = buffer

    def emit(self, record: logging.LogRecord) -> None:
        """Render, redact and append the record."""
        try:
            data = json.loads(self.format(record))
            fields = {k: v for k, v in data.items() if k not in _META_KEYS}
            self.buffer.append(timestamp=str(data.get("timestamp", "")), level=str(data.get("level", "")),
                               mark=str(data.get("mark", "")), event=str(data.get("event", "")),
                               logger=str(data.get("logger", "")), line=human_line(data), fields=fields)
        except Exception:
            self.handleError(record)


_NOISE_KEYS = ("message", "asctime", "color_message", "taskName")


def _drop_noise(logger: Any, method: str, event_dict: dict[str, Any]) -> dict[str, Any]:
    # attributes other formatters (pytest, uvicorn) leave on a record; not extras anyone passed
    for key in _NOISE_KEYS:
        event_dict.pop(key, None)
    return event_dict


def _add_company(logger: Any, method: str, event_dict: dict[str, Any]) -> dict[str, Any]:
    # The company whose work wrote the line (qbsf.log_context), in processes serving several.
    from qbsf.log_context import current_company

    company = current_company()
    if company is not None:
        event_dict.setdefault("company", company)
    return event_dict


def _shared_processors() -> list[Any]:
    return [
        structlog.contextvars.merge_contextvars,
        _add_company,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]


def _formatter(final: Callable[[Any, str, dict[str, Any]], str]) -> structlog.stdlib.ProcessorFormatter:
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[*_shared_processors(), structlog.stdlib.ExtraAdder(), _drop_noise],
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            _add_mark,
            redactor,  # last before rendering: sees the formatted exception text too
            final,
        ],
    )


def _can_encode(stream: TextIO, text: str) -> bool:
    encoding = getattr(stream, "encoding", None) or "utf-8"
    try:
        text.encode(encoding)
    except (UnicodeEncodeError, LookupError):
        return False
    return True


#: Library loggers that are chatty at INFO (one line per HTTP request).
QUIET_LOGGERS = ("httpx", "httpcore", "uvicorn.access", "zeep", "urllib3", "sse_starlette")


def configure_logging(*, log_dir: Path | None = None, level: str | int = "INFO",
                      console: TextIO | bool | None = True, buffer: LogBuffer | None = None,
                      max_bytes: int = 10 * 1024 * 1024, backups: int = 5,
                      secrets: Iterable[str | None] = ()) -> LogBuffer:
    """Install qbsf's handlers on the root logger (replacing any it installed before) and return the ring buffer.

    ``console``: True = stderr, a stream, or False/None for none. ``log_dir``: where ``qbsf.jsonl`` rotates
    (``max_bytes`` × ``backups``); None = no file. ``secrets``: literal values to mask everywhere.
    """
    buffer = buffer or LogBuffer()
    redactor.register(*secrets)
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, _HANDLER_TAG, False):
            root.removeHandler(handler)
            handler.close()
    handlers: list[logging.Handler] = []
    if console:
        stream: TextIO = sys.stderr if console is True else console  # type: ignore[assignment]
        h: logging.Handler = logging.StreamHandler(stream)
        h.setFormatter(_formatter(_console_renderer(ascii_only=not _can_encode(stream, "✓✗⚠"))))
        handlers.append(h)
    if log_dir is not None:
        log_dir.mkdir(parents=True, exist_ok=True)
        fh = logging.handlers.RotatingFileHandler(log_dir / LOG_FILE_NAME, maxBytes=max_bytes, backupCount=backups,
                                                  encoding="utf-8")
        fh.setFormatter(_formatter(_json_renderer))
        handlers.append(fh)
    bh = BufferHandler(buffer)
    bh.setFormatter(_formatter(_json_renderer))
    handlers.append(bh)
    for handler in handlers:
        setattr(handler, _HANDLER_TAG, True)
        root.addHandler(handler)
    root.setLevel(level if isinstance(level, int) else level.upper())
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    structlog.configure(
        processors=[*_shared_processors(), structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
    return buffer


def reset_logging() -> None:
    """Remove qbsf's handlers from the root logger (tests, and the CLI on exit)."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, _HANDLER_TAG, False):
            root.removeHandler(handler)
            handler.close()


def get_logger(name: str) -> structlog.stdlib.BoundLogger:
    """A structlog logger for app code (library layers keep using ``logging.getLogger(__name__)``)."""
    return structlog.stdlib.get_logger(name)


def now_iso() -> str:
    """Current UTC time, ISO 8601 (the same clock the log uses)."""
    return datetime.now(UTC).isoformat()

"""Web Connector users: one per company, passwords kept only as salted scrypt hashes.

Each Web Connector (one per QuickBooks company file) logs in with its own user
name; that user decides which company profile its session may touch.
Failed logins are counted per (user name, client address) and per address, and
each failure past a few makes that pair wait longer before its next attempt;
wrong passwords from one address never keep the right one from another out.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from qbsf.errors import ConfigError

log = logging.getLogger(__name__)

# scrypt cost: ~16 MiB and a few tens of ms per check, cheap for a login every few minutes, dear for guessing.
_SCRYPT_N, _SCRYPT_R, _SCRYPT_P = 2**14, 8, 1
_SALT_BYTES = 16
_HASH_BYTES = 32


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def hash_password(password: str, *, salt: bytes | None = None, cost: int = _SCRYPT_N) -> str:
    """A self-describing salted scrypt hash: ``scrypt$N$r$p$salt$hash`` (base64 parts).

    ``cost`` is scrypt's N (a power of two); the default suits production, tests may pass a lower one.
    """
    salt = salt if salt is not None else secrets.token_bytes(_SALT_BYTES)
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=cost, r=_SCRYPT_R, p=_SCRYPT_P,
                            dklen=_HASH_BYTES)
    return f"scrypt${cost}${_SCRYPT_R}${_SCRYPT_P}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, stored: str) -> bool:
    """Whether ``password`` matches ``stored`` (from :func:`hash_password`), compared in constant time."""
    try:
        scheme, n, r, p, salt_b64, hash_b64 = stored.split("$")
        if scheme != "scrypt":
            return False
        salt, expected = base64.b64decode(salt_b64), base64.b64decode(hash_b64)
        digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=int(n), r=int(r), p=int(p),
                                dklen=len(expected))
    except ValueError:
        return False
    return hmac.compare_digest(digest, expected)


# Checked against when the user name is unknown, so a miss costs the same time as a wrong password.
_DECOY_HASH = hash_password(secrets.token_urlsafe(16))


@dataclass(frozen=True)
class WebConnectorUser:
    """A Web Connector login: its user name, the company profile it serves and its password hash."""

    username: str
    company: str
    password_hash: str

    def __repr__(self) -> str:
        # The hash stays out of reprs and therefore out of logs and tracebacks.
        return f"WebConnectorUser(username={self.username!r}, company={self.company!r})"


@dataclass(frozen=True)
class Refusal:
    """Why a login is refused before its password is even checked: who, from where, and until when."""

    username: str
    client: str
    failures: int
    retry_in: float
    by_address: bool  # True: the address has failed across many user names, not just this one
    #: The throttle counts per company (hosted workers): the company the user name serves, "" for none.
    company: str | None = None

    def __str__(self) -> str:
        if self.company is not None:
            scope = (f"for company {self.company} from this address" if self.company
                     else "with user names no company has, from this address")
        else:
            scope = "from this address for any user" if self.by_address else "for this user from this address"
        return f"{self.failures} failed attempts {scope}; next attempt allowed in {self.retry_in:.0f} s"


@dataclass(frozen=True)
class ThrottleStatus:
    """One throttled (user name, client address) pair, or one address (``username`` ""), for status pages."""

    username: str
    client: str
    failures: int
    refused: int  # attempts turned away unchecked while the pair (or address) was waiting out its delay
    last_failure: float  # wall-clock seconds (time.time())
    blocked_until: float  # wall-clock seconds; in the past = failures counted but not blocked now

    def to_dict(self) -> dict[str, object]:
        """JSON-ready form (for /api/webconnector)."""
        return {"username": self.username, "client": self.client, "failures": self.failures,
                "refused": self.refused, "last_failure": self.last_failure, "blocked_until": self.blocked_until}


@dataclass
class _Failures:
    count: int
    last: float
    blocked_until: float
    refused: int = 0


class LoginThrottle:
    """Failed logins counted per (user name, client address) — and per address across user names — with delays
    that grow with each failure: after ``free_failures`` the key waits ``base_delay`` s, then twice that, and so on
    up to ``max_delay``. A pair is forgotten ``forget_after`` s after its last failure, or on a good login.

    The key never includes the user name alone: wrong passwords from one address never keep the right password
    from another address out (a guessable user name must not let anyone stop a company's sync).
    """

    def __init__(self, *, free_failures: int = 3, base_delay: float = 2.0, max_delay: float = 900.0,
                 address_free_failures: int = 20, forget_after: float = 3600.0, max_tracked: int = 10_000,
                 clock: Callable[[], float] = time.monotonic, wall_clock: Callable[[], float] = time.time) -> None:
        self.free_failures = free_failures
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.address_free_failures = address_free_failures
        self.forget_after = forget_after
        self.max_tracked = max_tracked
        self._clock = clock
        self._wall = wall_clock
        self._failures: dict[tuple[str, str], _Failures] = {}
        self._lock = threading.Lock()

    def _delay(self, count: int, free: int) -> float:
        over = count - free
        return 0.0 if over <= 0 else min(self.base_delay * 2 ** min(over - 1, 40), self.max_delay)

    def _live(self, key: tuple[str, str], now: float) -> _Failures | None:
        entry = self._failures.get(key)
        if entry is not None and now - entry.last > self.forget_after and now >= entry.blocked_until:
            del self._failures[key]
            return None
        return entry

    def check(self, user: str, client: str) -> Refusal | None:
        """Whether ``user`` from ``client`` must wait before trying again (None: go ahead and check the password).

        A refusal is counted (shown on the dashboard) but does not lengthen the delay.
        """
        now = self._clock()
        with self._lock:
            for key, by_address in (((user, client), False), (("", client), True)):
                entry = self._live(key, now)
                if entry is not None and now < entry.blocked_until:
                    entry.refused += 1
                    return Refusal(user, client, entry.count, entry.blocked_until - now, by_address)
        return None

    def failed(self, user: str, client: str) -> None:
        """Count one wrong password for ``user`` from ``client`` (and for ``client`` across user names)."""
        now = self._clock()
        with self._lock:
            for key, free in (((user, client), self.free_failures), (("", client), self.address_free_failures)):
                entry = self._live(key, now)
                if entry is None:
                    entry = self._failures[key] = _Failures(0, now, now)
                entry.count += 1
                entry.last = now
                entry.blocked_until = max(entry.blocked_until, now + self._delay(entry.count, free))
            if len(self._failures) > self.max_tracked:
                self._prune(now)

    def _prune(self, now: float) -> None:
        # Guessed names cannot grow the table without bound: expired keys go first, then the oldest.
        for key in list(self._failures):
            self._live(key, now)
        excess = len(self._failures) - self.max_tracked
        if excess > 0:
            for key in sorted(self._failures, key=lambda k: self._failures[k].last)[:excess]:
                del self._failures[key]

    def succeeded(self, user: str, client: str) -> None:
        """Forget the pair's failures after a good login (the address's count across names stays)."""
        with self._lock:
            self._failures.pop((user, client), None)

    def tracked(self) -> int:
        """How many keys have failures not yet forgotten (for tests and status)."""
        now = self._clock()
        with self._lock:
            return sum(1 for key in list(self._failures) if self._live(key, now) is not None)

    def statuses(self) -> list[ThrottleStatus]:
        """Every pair (and address) with failures not yet forgotten, most recent first (the dashboard's list)."""
        now, wall = self._clock(), self._wall()
        with self._lock:
            live = [(key, entry) for key in list(self._failures) if (entry := self._live(key, now)) is not None]
        rows = [ThrottleStatus(user, client, entry.count, entry.refused, wall - (now - entry.last),
                               wall + (entry.blocked_until - now)) for (user, client), entry in live]
        return sorted(rows, key=lambda row: row.last_failure, reverse=True)


def user_key(username: str) -> str:
    """How a user name is matched: QBWC user names without regard to case or surrounding blanks, as people type them."""
    return username.strip().casefold()


class LoginMemo(Protocol):
    """Where :class:`UserDirectory` remembers passwords it verified with scrypt, so the same password from the same
    Web Connector is recognised without scrypt for a while. Only a password already verified is recognised: a wrong
    one (a guess) still costs scrypt, and a changed password hash never matches what was remembered."""

    def remember(self, user: WebConnectorUser, password: str) -> None:
        """``password`` matched ``user``'s stored hash just now (scrypt said so)."""

    def remembered(self, user: WebConnectorUser, password: str) -> bool:
        """Whether this exact password matched this user's current stored hash, recently enough."""


def memo_digest(key: bytes, user: WebConnectorUser, password: str) -> bytes:
    """What a memo keeps of a verified login: an HMAC-SHA256 of (stored hash, password) under ``key``."""
    return hmac.new(key, f"{user.password_hash}\x00{password}".encode(), hashlib.sha256).digest()


class ProcessLoginMemo:
    """The memo of one process: a dict, and an HMAC key that is random and lives in this process only (a single
    company's ``qbsf qbwc``, or a hosted deployment without a deployment key)."""

    def __init__(self, seconds: float = 900.0, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.seconds = seconds
        self._clock = clock
        self._key = secrets.token_bytes(32)
        # user key → (HMAC of its stored hash and the password that matched it, until when)
        self._verified: dict[str, tuple[bytes, float]] = {}
        self._lock = threading.Lock()

    def remember(self, user: WebConnectorUser, password: str) -> None:
        entry = (memo_digest(self._key, user, password), self._clock() + self.seconds)
        with self._lock:
            self._verified[user_key(user.username)] = entry

    def remembered(self, user: WebConnectorUser, password: str) -> bool:
        with self._lock:
            entry = self._verified.get(user_key(user.username))
        return (entry is not None and entry[1] > self._clock()
                and hmac.compare_digest(entry[0], memo_digest(self._key, user, password)))


class UserDirectory:
    """The Web Connector users this endpoint accepts, each bound to exactly one company."""

    #: How long a password verified with scrypt is recognised without scrypt again (the default memo's time).
    REMEMBER_SECONDS = 900.0

    def __init__(self, throttle: LoginThrottle | None = None, memo: LoginMemo | None = None) -> None:
        self.throttle = throttle if throttle is not None else LoginThrottle()
        # Every company's Web Connector logs in every few minutes with the same password; scrypt (tens of ms of a
        # core, on purpose) would run for every session of every company without it.
        self.memo: LoginMemo = memo if memo is not None else ProcessLoginMemo(self.REMEMBER_SECONDS)
        self._users: dict[str, WebConnectorUser] = {}
        self._lock = threading.Lock()

    @staticmethod
    def _key(username: str) -> str:
        return user_key(username)

    def add(self, username: str, password: str, company: str) -> WebConnectorUser:
        """Register (or replace) ``username`` for ``company`` with ``password``, stored hashed."""
        return self.add_hashed(username, hash_password(password), company)

    def add_hashed(self, username: str, password_hash: str, company: str) -> WebConnectorUser:
        """Register ``username`` with an already-hashed password (as loaded from the registry file)."""
        if not username.strip():
            raise ConfigError("a Web Connector user needs a user name", hint="pass --user NAME")
        if not password_hash.startswith("scrypt$"):
            raise ConfigError(f"Web Connector user {username!r} has no usable password hash",
                              hint="set the password again with `qbsf qwc --company NAME --password …`")
        user = WebConnectorUser(username=username.strip(), company=company, password_hash=password_hash)
        with self._lock:
            other = self._users.get(self._key(username))
            if other is not None and other.company != company:
                raise ConfigError(f"Web Connector user {username!r} already serves company {other.company!r}",
                                  hint="give each company its own Web Connector user")
            self._users[self._key(username)] = user
        return user

    def get(self, username: str) -> WebConnectorUser | None:
        """The user named ``username``, if registered."""
        with self._lock:
            return self._users.get(self._key(username))

    def users(self) -> list[WebConnectorUser]:
        """Every registered user."""
        with self._lock:
            return list(self._users.values())

    def authenticate(self, username: str, password: str, *, client: str = "") -> WebConnectorUser | None:
        """The user if ``password`` is right and this (user name, client address) is not waiting out a delay.

        Each refusal and failure is logged with the user name and client address, never the password.
        """
        name, address = self._key(username), client or "unknown client"
        refusal = self.throttle.check(name, address)
        if refusal is not None:
            log.warning("Web Connector login for %r from %s refused: %s", username, address, refusal)
            return None
        user = self.get(username)
        if user is not None and self.memo.remembered(user, password):
            ok = True
        else:
            ok = verify_password(password, user.password_hash if user else _DECOY_HASH) and user is not None
            if ok and user is not None:
                self.memo.remember(user, password)
        if not ok:
            self.throttle.failed(name, address)
            log.warning("Web Connector login failed for %r from %s", username, address)
            return None
        self.throttle.succeeded(name, address)
        return user

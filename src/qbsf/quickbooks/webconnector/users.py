"""Web Connector users: one per company, passwords kept only as salted scrypt hashes.

Each Web Connector (one per QuickBooks company file) logs in with its own user
name; that user decides which company profile its session may touch.
Failed logins are counted per user name and per client address, and a burst
of them locks further attempts out for a while, whatever the password.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

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


class LoginThrottle:
    """Counts failed logins per key in a sliding window; too many lock the key out until the window passes."""

    def __init__(self, *, max_failures: int = 5, window_seconds: float = 900.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.max_failures = max_failures
        self.window_seconds = window_seconds
        self._clock = clock
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> int:
        # Drops expired failures, and the key itself once empty, so guessed names cannot grow the table forever.
        failures = self._failures.get(key)
        if failures is None:
            return 0
        while failures and now - failures[0] > self.window_seconds:
            failures.popleft()
        if not failures:
            del self._failures[key]
        return len(failures)

    def locked(self, *keys: str) -> bool:
        """Whether any of ``keys`` has used up its failures in the current window."""
        now = self._clock()
        with self._lock:
            return any(self._recent(key, now) >= self.max_failures for key in keys)

    def failed(self, *keys: str) -> None:
        """Record one failed attempt against each of ``keys``."""
        now = self._clock()
        with self._lock:
            for key in keys:
                self._recent(key, now)
                self._failures.setdefault(key, deque()).append(now)

    def tracked(self) -> int:
        """How many keys have failures in the window (for tests and status)."""
        now = self._clock()
        with self._lock:
            return sum(1 for key in list(self._failures) if self._recent(key, now))

    def succeeded(self, key: str) -> None:
        """Forget ``key``'s failures after a good login."""
        with self._lock:
            self._failures.pop(key, None)


class UserDirectory:
    """The Web Connector users this endpoint accepts, each bound to exactly one company."""

    def __init__(self, throttle: LoginThrottle | None = None) -> None:
        self.throttle = throttle if throttle is not None else LoginThrottle()
        self._users: dict[str, WebConnectorUser] = {}
        self._lock = threading.Lock()

    @staticmethod
    def _key(username: str) -> str:
        # QBWC user names are matched without regard to case or surrounding blanks, as people type them.
        return username.strip().casefold()

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
        """The user if ``password`` is right and neither the name nor ``client`` is locked out, else None.

        Failures are logged with the user name and client address, never the password.
        """
        keys = [f"user:{self._key(username)}"] + ([f"client:{client}"] if client else [])
        if self.throttle.locked(*keys):
            log.warning("Web Connector login for %r from %s refused: too many failed attempts", username,
                        client or "unknown client")
            return None
        user = self.get(username)
        ok = verify_password(password, user.password_hash if user else _DECOY_HASH) and user is not None
        if not ok:
            self.throttle.failed(*keys)
            log.warning("Web Connector login failed for %r from %s", username, client or "unknown client")
            return None
        self.throttle.succeeded(keys[0])
        return user

"""Authenticated encryption of secrets kept in a database (each company's Salesforce tokens and secrets).

AES-256-GCM (the ``cryptography`` package): a value is encrypted with a random 96-bit nonce, and what it belongs to
(the company and the secret's name) is bound in as associated data, so a ciphertext copied to another company or
another name does not decrypt. Stored text: ``v1.<base64url(nonce + ciphertext + tag)>``, beside the id of the key
that made it (the first 8 hex digits of the key's SHA-256, never the key).

The keys — a key ring, one key per line, the first one encrypts and every one decrypts — come from:

1. ``QBSF_SECRET_KEY``: keys separated by commas or white space;
2. else ``QBSF_SECRET_KEY_FILE``: a file of keys, one per line (``#`` starts a comment), readable by its owner only.

A key is 32 random bytes in URL-safe base64 (``qbsf tenants new-key FILE`` writes one). Rotating: put the new key
first in the ring, re-encrypt (``qbsf tenants rotate-key``), then drop the old key (docs/hosting.md).
Neither keys nor values ever reach a log line or an error message.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import secrets
import stat
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from qbsf.errors import ConfigError, QbsfError

KEY_ENV = "QBSF_SECRET_KEY"
KEY_FILE_ENV = "QBSF_SECRET_KEY_FILE"
_VERSION = "v1"
_NONCE = 12


class SecretBoxError(QbsfError):
    """A stored secret cannot be decrypted with any key of the ring (wrong key, or the value was tampered with)."""


def new_key() -> str:
    """A fresh random key (32 bytes, URL-safe base64)."""
    return encode_key(secrets.token_bytes(32))


def encode_key(key: bytes) -> str:
    """A key as written in a key file."""
    return base64.urlsafe_b64encode(key).decode("ascii")


def key_id(key: bytes) -> str:
    """The id a ciphertext records for its key: 8 hex digits of the key's SHA-256 (reveals nothing usable)."""
    return hashlib.sha256(key).hexdigest()[:8]


def _decode_key(text: str, where: str) -> bytes:
    try:
        raw = base64.urlsafe_b64decode(text.strip().encode("ascii"))
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raw = b""
    if len(raw) != 32:
        # Never echo the text: it may be a key with one character wrong.
        raise ConfigError(f"{where} holds a value that is not a qbsf secret key (32 bytes in URL-safe base64)",
                          hint="make one with `qbsf tenants new-key FILE`")
    return raw


@dataclass(frozen=True)
class KeyRing:
    """The keys in effect: ``keys[0]`` encrypts, any of them decrypts (by the id the ciphertext recorded)."""

    keys: tuple[bytes, ...]
    source: str = "given keys"

    def __post_init__(self) -> None:
        if not self.keys:
            raise ConfigError("the secret key ring is empty", hint="give at least one key")

    @property
    def current_id(self) -> str:
        """The id of the key new ciphertexts are made with."""
        return key_id(self.keys[0])

    def ids(self) -> list[str]:
        return [key_id(key) for key in self.keys]

    def encrypt(self, value: str, *, context: str) -> tuple[str, str]:
        """``value`` encrypted for ``context`` (what it belongs to): (stored text, key id)."""
        nonce = secrets.token_bytes(_NONCE)
        sealed = AESGCM(self.keys[0]).encrypt(nonce, value.encode("utf-8"), context.encode("utf-8"))
        return f"{_VERSION}.{base64.urlsafe_b64encode(nonce + sealed).decode('ascii')}", self.current_id

    def decrypt(self, stored: str, *, context: str, stored_key_id: str | None = None) -> str:
        """The value of ``stored`` (made for ``context``); SecretBoxError when no key of the ring opens it."""
        version, _, body = stored.partition(".")
        try:
            blob = base64.urlsafe_b64decode(body.encode("ascii"))
        except (binascii.Error, UnicodeEncodeError, ValueError):
            blob = b""
        if version != _VERSION or len(blob) <= _NONCE:
            raise SecretBoxError("a stored secret is not in qbsf's encrypted form",
                                 hint="store it again (qbsf tenants set-secret)")
        candidates = [key for key in self.keys if key_id(key) == stored_key_id] or list(self.keys)
        for key in candidates:
            try:
                plain = AESGCM(key).decrypt(blob[:_NONCE], blob[_NONCE:], context.encode("utf-8"))
            except InvalidTag:
                continue
            return plain.decode("utf-8")
        raise SecretBoxError(f"a stored secret was encrypted with key {stored_key_id or 'unknown'}, which is not in "
                             f"the key ring ({self.source}: keys {', '.join(self.ids())})",
                             hint=f"add that key to {KEY_FILE_ENV} or {KEY_ENV} (after the current one)")

    @classmethod
    def parse(cls, text: str, *, source: str) -> KeyRing:
        """Keys from text: one per line or separated by commas/white space, ``#`` comments ignored."""
        words = []
        for line in text.splitlines():
            words.extend(line.split("#", 1)[0].replace(",", " ").split())
        if not words:
            raise ConfigError(f"{source} holds no key", hint="make one with `qbsf tenants new-key FILE`")
        return cls(tuple(_decode_key(word, source) for word in words), source=source)

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> KeyRing:
        """The ring from ``QBSF_SECRET_KEY``, else the file ``QBSF_SECRET_KEY_FILE`` names."""
        env = os.environ if environ is None else environ
        if env.get(KEY_ENV, "").strip():
            return cls.parse(env[KEY_ENV], source=KEY_ENV)
        path = env.get(KEY_FILE_ENV, "").strip()
        if not path:
            raise ConfigError("no key to encrypt the companies' secrets with",
                              hint=f"make one with `qbsf tenants new-key FILE` and set {KEY_FILE_ENV}=FILE "
                                   f"(or {KEY_ENV}) for every qbsf process of this deployment")
        return cls.from_file(Path(path))

    @classmethod
    def from_file(cls, path: Path) -> KeyRing:
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"cannot read the secret key file {path}: {exc.strerror}",
                              hint=f"check {KEY_FILE_ENV} and the file's owner") from None
        if sys.platform != "win32" and stat.S_IMODE(path.stat().st_mode) & 0o077:
            raise ConfigError(f"the secret key file {path} is readable by other users",
                              hint=f"chmod 600 {path}")
        return cls.parse(text, source=str(path))


def write_key_file(path: Path, keys: list[str]) -> None:
    """Write ``keys`` (first = current) to ``path`` with mode 0600, atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.new")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write("# qbsf secret keys: the first encrypts, every one decrypts (docs/hosting.md)\n")
            handle.writelines(f"{key}\n" for key in keys)
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise

"""License keys, verified offline, and the Machine ID they are bound to.

A key is ``QBSF-`` followed by base64url (no padding) of ``payload || signature``: the payload is compact JSON
(version, edition, licensee, machine id or ``*``, expiry date, features) and the signature is Ed25519 over the
payload, 64 bytes, made with the project owners' private key. qbsf carries only the public key, so a key can be
checked with no network. No key → free edition. After the expiry date a key keeps working for a 7-day grace period
(with a warning each start), then qbsf falls back to the free edition.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import logging
import os
import platform
import subprocess
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from qbsf.errors import ConfigError

log = logging.getLogger(__name__)

KEY_PREFIX = "QBSF-"
SIGNATURE_BYTES = 64
GRACE_DAYS = 7
FREE_EDITION = "free"
ANY_MACHINE = "*"

#: The project owners' Ed25519 public key (raw 32 bytes, base64). The private half is never in the repository.
PUBLIC_KEY_B64 = "vf/wGmH/B+Gk0Sj5EJTc4sy2Ta/CVdGRxKpFLYgkoBE="

#: Where :func:`load_private_key` looks for the owners' private key (PEM text, or a path to a PEM file).
PRIVATE_KEY_ENV = "QBSF_LICENSE_PRIVATE_KEY"
PRIVATE_KEY_FILE_ENV = "QBSF_LICENSE_PRIVATE_KEY_FILE"


class LicenseError(ConfigError):
    """A license key that cannot be used: malformed, forged, for another machine, or past its grace period."""


# ---- Machine ID ---------------------------------------------------------------------------------------------------

_LINUX_ID_FILES = (Path("/etc/machine-id"), Path("/var/lib/dbus/machine-id"))


def _windows_machine_guid() -> str | None:
    try:
        import winreg  # type: ignore[import-not-found]  # Windows only
    except ImportError:
        return None
    try:
        with winreg.OpenKey(winreg.HKEY_LOCAL_MACHINE, r"SOFTWARE\Microsoft\Cryptography") as key:
            value, _ = winreg.QueryValueEx(key, "MachineGuid")
            return str(value)
    except OSError:
        return None


def _macos_platform_uuid() -> str | None:
    if platform.system() != "Darwin":
        return None
    try:
        out = subprocess.run(["ioreg", "-rd1", "-c", "IOPlatformExpertDevice"], capture_output=True, text=True,
                             timeout=5, check=False).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    for line in out.splitlines():
        if "IOPlatformUUID" in line:
            return line.split("=")[-1].strip().strip('"')
    return None


def raw_machine_identity(id_files: tuple[Path, ...] = _LINUX_ID_FILES, fallback_dir: Path | None = None) -> str:
    """The machine's own stable identifier: /etc/machine-id, Windows MachineGuid, macOS IOPlatformUUID, or a
    random id generated once and kept in ``fallback_dir`` (default: the qbsf config dir)."""
    for path in id_files:
        try:
            text = path.read_text(encoding="ascii").strip()
        except (OSError, UnicodeDecodeError):
            continue
        if text:
            return text
    for probe in (_windows_machine_guid, _macos_platform_uuid):
        found = probe()
        if found:
            return found
    if fallback_dir is None:
        from qbsf.app.settings import default_config_dir

        fallback_dir = default_config_dir()
    stored = fallback_dir / "machine-id"
    try:
        text = stored.read_text(encoding="ascii").strip()
        if text:
            return text
    except (OSError, UnicodeDecodeError):
        pass
    generated = uuid.uuid4().hex
    try:
        fallback_dir.mkdir(parents=True, exist_ok=True)
        stored.write_text(generated + "\n", encoding="ascii")
    except OSError as exc:
        raise ConfigError(f"cannot store a generated machine id in {stored}: {exc.strerror}",
                          hint="make the qbsf config folder writable") from exc
    return generated


def machine_id(raw: str | None = None, **kwargs: object) -> str:
    """The Machine ID shown to users and bound into keys: a hash of the machine's identity, ``XXXX-XXXX-XXXX-XXXX``.

    Hashed so the raw /etc/machine-id (which some tools treat as confidential) never leaves the machine.
    """
    source = raw if raw is not None else raw_machine_identity(**kwargs)  # type: ignore[arg-type]
    digest = hashlib.sha256(("qbsf-machine-id:v1:" + source.strip().lower()).encode()).hexdigest()[:16].upper()
    return "-".join(digest[i:i + 4] for i in range(0, 16, 4))


def _normal_mid(value: str) -> str:
    return value.strip().upper().replace(" ", "")


# ---- keys ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class License:
    """What a verified key grants."""

    edition: str
    licensee: str
    machine_id: str
    expires: date | None
    features: tuple[str, ...] = ()
    issued: date | None = None


@dataclass(frozen=True)
class LicenseStatus:
    """The license in effect: state is ``free``, ``valid``, ``grace`` (expired, still working), ``expired`` or
    ``invalid`` (both of which run as the free edition); ``message`` is the line to log."""

    state: str
    edition: str
    message: str
    license: License | None = None
    days_left: int | None = None
    warnings: tuple[str, ...] = field(default=())

    @property
    def ok(self) -> bool:
        """True when qbsf runs with the key's edition (valid or in grace)."""
        return self.state in ("valid", "grace")


def public_key_from_b64(text: str) -> Ed25519PublicKey:
    """An Ed25519 public key from base64 of its 32 raw bytes."""
    return Ed25519PublicKey.from_public_bytes(base64.b64decode(text))


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64url(text: str) -> bytes:
    # validate=True: stray characters are damage to report, not noise to drop
    return base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_", validate=True)


def mint_key(private_key: Ed25519PrivateKey, *, edition: str, licensee: str, machine: str = ANY_MACHINE,
             expires: date | None = None, features: tuple[str, ...] = (), issued: date | None = None) -> str:
    """Sign a license payload and return the ``QBSF-…`` key (owners only: needs the private key)."""
    if not edition or edition == FREE_EDITION:
        raise ConfigError(f"edition {edition!r} cannot be minted", hint="use e.g. standard, pro or enterprise")
    if not licensee.strip():
        raise ConfigError("licensee is empty", hint="pass the customer's name with --licensee")
    payload = {
        "v": 1,
        "ed": edition,
        "lic": licensee.strip(),
        "mid": ANY_MACHINE if machine == ANY_MACHINE else _normal_mid(machine),
        "exp": expires.isoformat() if expires else None,
        "iat": (issued or datetime.now(UTC).date()).isoformat(),
        "ft": list(features),
    }
    body = json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()
    return KEY_PREFIX + _b64url(body + private_key.sign(body))


def decode_key(key: str, public_key: Ed25519PublicKey | None = None) -> License:
    """Check the key's shape and signature and return what it grants (no expiry or machine check here)."""
    text = "".join(key.split())
    if not text.upper().startswith(KEY_PREFIX):
        raise LicenseError("license key must start with QBSF-", hint="paste the whole key exactly as received")
    try:
        blob = _unb64url(text[len(KEY_PREFIX):])
    except (binascii.Error, ValueError) as exc:
        raise LicenseError("license key is damaged (not base64url)",
                           hint="paste the whole key exactly as received") from exc
    if len(blob) <= SIGNATURE_BYTES:
        raise LicenseError("license key is too short", hint="paste the whole key exactly as received")
    body, signature = blob[:-SIGNATURE_BYTES], blob[-SIGNATURE_BYTES:]
    key_obj = public_key or public_key_from_b64(PUBLIC_KEY_B64)
    try:
        key_obj.verify(signature, body)
    except InvalidSignature as exc:
        raise LicenseError("license key signature is not valid (the key was altered or not issued by qbsf)",
                           hint="paste the whole key exactly as received, or ask for a new key") from exc
    try:
        data = json.loads(body)
        return License(
            edition=str(data["ed"]),
            licensee=str(data["lic"]),
            machine_id=str(data["mid"]),
            expires=date.fromisoformat(data["exp"]) if data.get("exp") else None,
            features=tuple(str(f) for f in data.get("ft", ())),
            issued=date.fromisoformat(data["iat"]) if data.get("iat") else None,
        )
    except (ValueError, KeyError, TypeError) as exc:
        raise LicenseError("license key payload is not understood by this qbsf version",
                           hint="upgrade qbsf, or ask for a new key") from exc


def verify_key(key: str, *, machine: str, today: date | None = None,
               public_key: Ed25519PublicKey | None = None) -> LicenseStatus:
    """Verify ``key`` for this ``machine`` on ``today`` (UTC). Raises LicenseError when it cannot be used."""
    lic = decode_key(key, public_key)
    if lic.machine_id != ANY_MACHINE and _normal_mid(lic.machine_id) != _normal_mid(machine):
        raise LicenseError(f"license key is bound to Machine ID {lic.machine_id}, this machine is {machine}",
                           hint="ask for a key for this Machine ID (`qbsf machine-id` prints it)")
    today = today or datetime.now(UTC).date()
    if lic.expires is None:
        return LicenseStatus("valid", lic.edition, f"License: {lic.edition} edition for {lic.licensee}, perpetual",
                             license=lic)
    days_left = (lic.expires - today).days
    if days_left >= 0:
        return LicenseStatus("valid", lic.edition, f"License: {lic.edition} edition for {lic.licensee}, "
                             f"valid until {lic.expires.isoformat()} ({days_left} days left)",
                             license=lic, days_left=days_left)
    grace_end = lic.expires + timedelta(days=GRACE_DAYS)
    if today <= grace_end:
        left = (grace_end - today).days
        warning = (f"License expired on {lic.expires.isoformat()}; grace period ends {grace_end.isoformat()} "
                   f"({left} days left) — renew the key")
        return LicenseStatus("grace", lic.edition, warning, license=lic, days_left=left, warnings=(warning,))
    raise LicenseError(f"license key expired on {lic.expires.isoformat()} and its {GRACE_DAYS}-day grace period "
                       f"ended {grace_end.isoformat()}", hint="renew the key; qbsf runs as the free edition until then")


def license_status(key: str | None, *, machine: str, today: date | None = None,
                   public_key: Ed25519PublicKey | None = None) -> LicenseStatus:
    """The license in effect for a configured key (never raises): free without a key, free with the reason when the
    key cannot be used."""
    if not key or not key.strip():
        return LicenseStatus("free", FREE_EDITION, "License: free edition (no key)")
    try:
        return verify_key(key, machine=machine, today=today, public_key=public_key)
    except LicenseError as exc:
        state = "expired" if "expired" in exc.message else "invalid"
        return LicenseStatus(state, FREE_EDITION, f"License key refused: {exc} — running as free edition",
                             warnings=(str(exc),))


def load_private_key() -> Ed25519PrivateKey:
    """The owners' private key from ``$QBSF_LICENSE_PRIVATE_KEY`` (PEM text) or ``$QBSF_LICENSE_PRIVATE_KEY_FILE``."""
    pem = os.environ.get(PRIVATE_KEY_ENV)
    source = PRIVATE_KEY_ENV
    if not pem:
        path = os.environ.get(PRIVATE_KEY_FILE_ENV)
        if not path:
            raise ConfigError("no license signing key", hint=f"set {PRIVATE_KEY_FILE_ENV} to the owners' PEM file "
                              f"or {PRIVATE_KEY_ENV} to its text (never commit it)")
        source = path
        try:
            pem = Path(path).expanduser().read_text(encoding="ascii")
        except OSError as exc:
            raise ConfigError(f"cannot read {path}: {exc.strerror}", hint=f"check {PRIVATE_KEY_FILE_ENV}") from exc
    try:
        key = serialization.load_pem_private_key(pem.encode("ascii"), password=None)
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"{source} is not an unencrypted PEM private key",
                          hint="export it with `openssl pkey` (PKCS#8, no password)") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise ConfigError(f"{source} is not an Ed25519 key", hint="license keys are signed with Ed25519")
    return key


def public_key_b64(private_key: Ed25519PrivateKey) -> str:
    """Base64 of the raw public key matching ``private_key`` (what goes in :data:`PUBLIC_KEY_B64`)."""
    raw = private_key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode("ascii")

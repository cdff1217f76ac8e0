from datetime import date
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
from typer.testing import CliRunner

from qbsf.app import license as lic
from qbsf.app.cli import app
from qbsf.app.settings import load_settings

MID = "ABCD-1234-EF56-7890"


@pytest.fixture
def keypair() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


@pytest.fixture
def installed_key(keypair: Ed25519PrivateKey, monkeypatch: pytest.MonkeyPatch) -> Ed25519PrivateKey:
    """Inject the test public key as the package's key, for the CLI paths."""
    monkeypatch.setattr(lic, "PUBLIC_KEY_B64", lic.public_key_b64(keypair))
    return keypair


def test_valid_key_round_trips(keypair) -> None:
    key = lic.mint_key(keypair, edition="pro", licensee="Acme Ltd", machine=MID, expires=date(2027, 1, 31),
                       features=("Order", "Payment"))
    assert key.startswith("QBSF-")
    status = lic.verify_key(key, machine=MID.lower(), today=date(2027, 1, 1), public_key=keypair.public_key())
    assert status.state == "valid" and status.ok
    assert status.edition == "pro" and status.days_left == 30
    assert status.license.features == ("Order", "Payment")
    assert "Acme Ltd" in status.message


def test_whitespace_and_line_breaks_in_a_pasted_key_are_ignored(keypair) -> None:
    key = lic.mint_key(keypair, edition="pro", licensee="Acme")
    pasted = f"  {key[:30]}\n{key[30:]} \n"
    assert lic.verify_key(pasted, machine=MID, public_key=keypair.public_key()).state == "valid"


def test_perpetual_key_for_any_machine(keypair) -> None:
    key = lic.mint_key(keypair, edition="standard", licensee="Acme")
    status = lic.verify_key(key, machine="FFFF-0000-FFFF-0000", public_key=keypair.public_key())
    assert status.state == "valid" and status.license.expires is None


def test_grace_period_warns_then_expires(keypair) -> None:
    key = lic.mint_key(keypair, edition="pro", licensee="Acme", machine=MID, expires=date(2027, 1, 31))
    pub = keypair.public_key()
    grace = lic.verify_key(key, machine=MID, today=date(2027, 2, 7), public_key=pub)
    assert grace.state == "grace" and grace.ok and grace.days_left == 0
    assert "grace period ends 2027-02-07" in grace.warnings[0]
    with pytest.raises(lic.LicenseError, match="expired on 2027-01-31"):
        lic.verify_key(key, machine=MID, today=date(2027, 2, 8), public_key=pub)
    status = lic.license_status(key, machine=MID, today=date(2027, 2, 8), public_key=pub)
    assert status.state == "expired" and status.edition == "free" and not status.ok


def test_other_machine_is_refused_with_both_ids(keypair) -> None:
    key = lic.mint_key(keypair, edition="pro", licensee="Acme", machine=MID)
    with pytest.raises(lic.LicenseError) as err:
        lic.verify_key(key, machine="0000-0000-0000-0000", public_key=keypair.public_key())
    assert MID in str(err.value) and "0000-0000-0000-0000" in str(err.value)
    assert "qbsf machine-id" in str(err.value)


def test_tampered_or_foreign_keys_are_refused(keypair) -> None:
    key = lic.mint_key(keypair, edition="pro", licensee="Acme")
    pub = keypair.public_key()
    body = key[len("QBSF-"):]
    flipped = "QBSF-" + ("B" if body[3] != "B" else "C").join([body[:3], body[4:]])
    with pytest.raises(lic.LicenseError):
        lic.verify_key(flipped, machine=MID, public_key=pub)
    other = Ed25519PrivateKey.generate()
    forged = lic.mint_key(other, edition="enterprise", licensee="Mallory")
    with pytest.raises(lic.LicenseError, match="signature is not valid"):
        lic.verify_key(forged, machine=MID, public_key=pub)
    for bad, message in (("VKMQB-XXXXX", "must start with QBSF-"), ("QBSF-abc", "too short"),
                         ("QBSF-***", "damaged")):
        with pytest.raises(lic.LicenseError, match=message):
            lic.verify_key(bad, machine=MID, public_key=pub)


def test_no_key_is_the_free_edition() -> None:
    status = lic.license_status("", machine=MID)
    assert status.state == "free" and status.edition == "free" and not status.warnings


def test_mint_refuses_free_edition_and_empty_licensee(keypair) -> None:
    with pytest.raises(lic.ConfigError):
        lic.mint_key(keypair, edition="free", licensee="Acme")
    with pytest.raises(lic.ConfigError):
        lic.mint_key(keypair, edition="pro", licensee="  ")


def test_machine_id_is_stable_hashed_and_formatted(tmp_path: Path) -> None:
    id_file = tmp_path / "machine-id"
    id_file.write_text("0123456789abcdef0123456789abcdef\n")
    first = lic.machine_id(id_files=(id_file,), fallback_dir=tmp_path / "cfg")
    assert first == lic.machine_id(id_files=(id_file,), fallback_dir=tmp_path / "cfg")
    assert len(first) == 19 and first.count("-") == 3
    assert "0123456789" not in first.replace("-", "").lower()
    id_file.write_text("fedcba9876543210fedcba9876543210\n")
    assert lic.machine_id(id_files=(id_file,), fallback_dir=tmp_path / "cfg") != first


def test_machine_id_falls_back_to_a_generated_id_kept_in_the_config_dir(tmp_path: Path) -> None:
    missing = (tmp_path / "nope",)
    first = lic.raw_machine_identity(id_files=missing, fallback_dir=tmp_path / "cfg")
    if (tmp_path / "cfg" / "machine-id").exists():  # only on a machine with no OS id (this Linux has /etc files)
        assert lic.raw_machine_identity(id_files=missing, fallback_dir=tmp_path / "cfg") == first
    assert first


def test_private_key_is_read_from_env_file(keypair, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv(lic.PRIVATE_KEY_ENV, raising=False)
    monkeypatch.delenv(lic.PRIVATE_KEY_FILE_ENV, raising=False)
    with pytest.raises(lic.ConfigError, match=lic.PRIVATE_KEY_FILE_ENV):
        lic.load_private_key()
    pem = tmp_path / "k.pem"
    pem.write_bytes(keypair.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()))
    monkeypatch.setenv(lic.PRIVATE_KEY_FILE_ENV, str(pem))
    assert lic.public_key_b64(lic.load_private_key()) == lic.public_key_b64(keypair)
    pem.write_text("not a key")
    with pytest.raises(lic.ConfigError, match="not an unencrypted PEM"):
        lic.load_private_key()


def test_package_public_key_is_a_valid_ed25519_key() -> None:
    assert len(lic.public_key_from_b64(lic.PUBLIC_KEY_B64).public_bytes_raw()) == 32


def test_cli_mint_verify_save_show(installed_key, tmp_path: Path, config_file: Path, monkeypatch) -> None:
    pem = tmp_path / "k.pem"
    pem.write_bytes(installed_key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()))
    monkeypatch.setenv(lic.PRIVATE_KEY_FILE_ENV, str(pem))
    runner = CliRunner()
    mid = runner.invoke(app, ["machine-id"]).stdout.strip()
    assert mid == lic.machine_id()
    minted = runner.invoke(app, ["license", "mint", "--licensee", "Acme", "--edition", "pro", "--machine", mid,
                                 "--expires", "2999-12-31"])
    assert minted.exit_code == 0, minted.output
    key = minted.stdout.strip()
    result = runner.invoke(app, ["license", "verify", key, "--save"])
    assert result.exit_code == 0, result.output
    assert "✓ License: pro edition for Acme" in result.stdout
    assert load_settings().settings.license_key == key
    shown = runner.invoke(app, ["license", "show"])
    assert shown.exit_code == 0 and f"Machine ID: {mid}" in shown.stdout and "pro edition" in shown.stdout


def test_cli_verify_refuses_other_machine_with_exit_2(installed_key, monkeypatch, capsys) -> None:
    from qbsf.app.cli import main

    key = lic.mint_key(installed_key, edition="pro", licensee="Acme", machine="0000-0000-0000-0000")
    monkeypatch.setattr("sys.argv", ["qbsf", "license", "verify", key])
    with pytest.raises(SystemExit) as exited:
        main()
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert "0000-0000-0000-0000" in err and "qbsf machine-id" in err and "Traceback" not in err

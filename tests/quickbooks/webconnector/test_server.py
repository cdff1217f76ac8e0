"""Serving over TLS: the Web Connector needs https for anything but localhost."""

from __future__ import annotations

import datetime as dt
import ssl

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from qbsf.errors import ConfigError
from qbsf.quickbooks.webconnector import create_app
from qbsf.quickbooks.webconnector.server import BackgroundServer
from qbsf.sim.webconnector import WebConnectorStandIn


@pytest.fixture(scope="module")
def self_signed(tmp_path_factory):
    """A throwaway certificate for 127.0.0.1 and its key."""
    import ipaddress

    folder = tmp_path_factory.mktemp("tls")
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=1))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .sign(key, hashes.SHA256()))
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_file, key_file


def test_a_whole_session_over_https(service, quickbooks, engine, messages, self_signed) -> None:
    from qbsf.quickbooks.transports.webconnector import WebConnectorTransport

    cert_file, key_file = self_signed
    with BackgroundServer(create_app(service), certfile=cert_file, keyfile=key_file) as server:
        assert server.url.startswith("https://127.0.0.1:")
        wsdl = httpx.get(server.url + "?wsdl", verify=ssl.create_default_context(cafile=str(cert_file)))
        assert f'location="{server.url}"' in wsdl.text
        eng = engine(WebConnectorTransport(service.bridge("acme"), session_wait=5, response_timeout=5),
                     [messages.customer_add("Secure Customer")])
        with WebConnectorStandIn(server.url, "acme-qbwc", "acme-password-1", quickbooks,
                                 verify=ssl.create_default_context(cafile=str(cert_file))) as wc:
            assert wc.run_session().completed
        eng.join()
    assert [c["Name"] for c in quickbooks.customers()] == ["Secure Customer"]


def test_tls_needs_both_files_that_exist(tmp_path, service) -> None:
    with pytest.raises(ConfigError, match="both"):
        BackgroundServer(create_app(service), certfile=tmp_path / "c.pem")
    with pytest.raises(ConfigError, match="does not exist"):
        BackgroundServer(create_app(service), certfile=tmp_path / "c.pem", keyfile=tmp_path / "k.pem")

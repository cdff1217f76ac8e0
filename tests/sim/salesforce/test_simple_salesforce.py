"""simple-salesforce, a client we did not write, drives the emulator unchanged over https."""

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceAuthenticationFailed, SalesforceMalformedRequest

from qbsf.sim.salesforce import EmulatorSettings, start_emulator


def _session(emulator) -> requests.Session:
    session = requests.Session()
    session.trust_env = False  # else REQUESTS_CA_BUNDLE from the environment overrides session.verify
    session.verify = str(emulator.ca_path)
    return session


def _login_domain(emulator) -> str:
    # simple-salesforce builds https://{domain}.salesforce.com/services/oauth2/token; a fragment hides the suffix.
    return emulator.url.removeprefix("https://") + "/services/oauth2/token#"


def test_client_credentials_login_query_all_crud_and_upsert(sf_emulator_tls):
    emulator = sf_emulator_tls
    sf = Salesforce(consumer_key=emulator.client_id, consumer_secret=emulator.client_secret,
                    domain=_login_domain(emulator), session=_session(emulator), version="62.0")
    assert sf.sf_instance == emulator.url.removeprefix("https://")

    created = sf.Account.create({"Name": "Acme", "BillingCity": "Paris"})
    assert created["success"] is True
    account = sf.Account.get(created["id"])
    assert account["Name"] == "Acme" and account["attributes"]["type"] == "Account"
    assert sf.Account.update(created["id"], {"BillingCity": "Lyon"}) == 204
    assert sf.Account.upsert("QB_Customer_ID__c/80000001-1", {"Name": "Upserted"}) == 201
    assert sf.Account.upsert("QB_Customer_ID__c/80000001-1", {"Name": "Upserted again"}) == 200
    by_ext = sf.Account.get_by_custom_id("QB_Customer_ID__c", "80000001-1")
    assert by_ext["Name"] == "Upserted again"

    for i in range(450):
        emulator.state.insert("Contact", {"LastName": f"Contact {i}", "AccountId": created["id"]})
    result = sf.query_all("SELECT Id, LastName, Account.Name FROM Contact WHERE Account.BillingCity = 'Lyon'")
    assert result["totalSize"] == 450 and len(result["records"]) == 450
    assert result["records"][0]["Account"]["Name"] == "Acme"

    assert sf.Account.delete(created["id"]) == 204
    deleted = sf.query_all("SELECT Id FROM Account WHERE IsDeleted = true", include_deleted=True)
    assert [r["Id"] for r in deleted["records"]] == [created["id"]]
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.query("SELECT Id FROM Account WHERE")
    assert caught.value.content[0]["errorCode"] == "MALFORMED_QUERY"


def test_password_flow_and_bad_credentials(sf_emulator_tls):
    emulator = sf_emulator_tls
    sf = Salesforce(username=emulator.username, password=emulator.password, consumer_key=emulator.client_id,
                    consumer_secret=emulator.client_secret, domain=_login_domain(emulator),
                    session=_session(emulator))
    assert sf.query("SELECT COUNT() FROM User")["totalSize"] == 1
    with pytest.raises(SalesforceAuthenticationFailed, match="authentication failure"):
        Salesforce(username=emulator.username, password="wrong", consumer_key=emulator.client_id,
                   consumer_secret=emulator.client_secret, domain=_login_domain(emulator),
                   session=_session(emulator))
    with pytest.raises(SalesforceAuthenticationFailed, match="invalid client credentials"):
        Salesforce(consumer_key=emulator.client_id, consumer_secret="nope", domain=_login_domain(emulator),
                   session=_session(emulator))


def _self_signed(key) -> str:
    """The certificate a connected app holds for JWT bearer (what `sf org login jwt` users upload)."""
    import datetime as dt

    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "qbsf connected app")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(1).not_valid_before(now).not_valid_after(now + dt.timedelta(days=1))
            .sign(key, hashes.SHA256()))
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def test_jwt_bearer_login_with_a_certificate(sf_state, tmp_path):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    key_file = tmp_path / "server.key"
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    emulator = start_emulator(sf_state, EmulatorSettings(jwt_public_key=_self_signed(key)), ssl=True)
    try:
        sf = Salesforce(username=emulator.username, consumer_key=emulator.client_id, privatekey_file=str(key_file),
                        domain=_login_domain(emulator), session=_session(emulator))
        assert sf.Contact.create({"LastName": "Via JWT"})["success"] is True
        assert [c["LastName"] for c in sf_state.records("Contact")] == ["Via JWT"]
    finally:
        emulator.stop()

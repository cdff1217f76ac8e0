"""What other clients rely on, checked over plain HTTP: repeated slashes, the identity resource, query columns,
the Organization record and the partner SOAP login()."""

import httpx
import pytest

from qbsf.sim.salesforce.ids import ORG_ID

V = "/services/data/v62.0"


@pytest.fixture
def api(sf_emulator):
    with sf_emulator.client() as client:
        yield client


def test_repeated_slashes_reach_the_same_resource(sf_emulator, api):
    assert httpx.get(f"{sf_emulator.url}//services/data").json()[0]["version"] == "31.0"
    record_id = sf_emulator.state.insert("Account", {"Name": "Slashes"})
    answer = api.get(f"{sf_emulator.url}/{V}//sobjects/Account/{record_id}")
    assert answer.status_code == 200 and answer.json()["Name"] == "Slashes"
    missing = api.get(f"{sf_emulator.url}/{V}/sobjects/Nothing__c")
    assert missing.status_code == 404 and missing.json()[0]["errorCode"] == "NOT_FOUND"  # JSON, not plain text


def test_version_resources_name_the_callers_identity_url(sf_emulator, api):
    resources = api.get(f"{V}/").json()
    assert resources["identity"] == f"{sf_emulator.url}/id/{ORG_ID}/{sf_emulator.state.user_id}"
    identity = api.get(resources["identity"].removeprefix(sf_emulator.url)).json()
    assert identity["organization_id"] == ORG_ID


def test_organization_is_one_read_only_record(sf_emulator, api):
    rows = api.get(f"{V}/query", params={"q": "SELECT Id, Name, IsSandbox, InstanceName, OrganizationType, "
                                               "NamespacePrefix, TrialExpirationDate FROM Organization"}).json()
    assert rows["totalSize"] == 1
    org = rows["records"][0]
    assert org["Id"] == ORG_ID and org["IsSandbox"] is False and org["NamespacePrefix"] is None
    refused = api.patch(f"{V}/sobjects/Organization/{ORG_ID}", json={"Name": "Renamed"})
    assert refused.status_code == 400 and refused.json()[0]["errorCode"] == "INVALID_FIELD_FOR_INSERT_UPDATE"
    fields = {f["name"] for f in api.get(f"{V}/sobjects/Organization/describe").json()["fields"]}
    assert "IsDeleted" not in fields and {"InstanceName", "OrganizationType"} <= fields


def test_columns_true_answers_column_metadata_in_the_recorded_shape(sf_emulator, api):
    sf_emulator.state.insert("Account", {"Name": "Columns"})
    q = "SELECT Id, Name, Owner.Name, (SELECT LastName FROM Contacts) FROM Account"
    meta = api.get(f"{V}/query", params={"q": q, "columns": "true"}).json()
    assert meta["entityName"] == "Account" and meta["keyPrefix"] == "001" and meta["idSelected"] is True
    first, name, owner, contacts = meta["columnMetadata"]
    assert first == {"aggregate": False, "apexType": "Id", "booleanType": False, "columnName": "Id", "custom": False,
                     "displayName": "Id", "foreignKeyName": None, "insertable": False, "joinColumns": [],
                     "numberType": False, "textType": False, "updatable": False}
    assert name["apexType"] == "String" and name["textType"] is True and name["insertable"] is True
    assert owner["foreignKeyName"] == "OwnerId" and owner["apexType"] is None
    assert owner["joinColumns"][0]["columnName"] == "Name"
    assert contacts["aggregate"] is True and contacts["columnName"] == "Contacts"
    assert contacts["joinColumns"][0]["columnName"] == "LastName"
    summed = api.get(f"{V}/query", params={"q": "SELECT BillingCity, COUNT(Id) n, AVG(AnnualRevenue) FROM Account "
                                                "GROUP BY BillingCity", "columns": "true"}).json()
    city, count, average = summed["columnMetadata"]
    assert summed["groupBy"] is True and city["aggregate"] is False
    assert (count["columnName"], count["displayName"], count["aggregate"]) == ("n", "count(Id)", True)
    assert (average["columnName"], average["displayName"], average["numberType"]) == ("expr0", "avg(AnnualRevenue)",
                                                                                     True)
    bad = api.get(f"{V}/query", params={"q": "SELECT Nope FROM Account", "columns": "true"})
    assert bad.status_code == 400 and bad.json()[0]["errorCode"] == "INVALID_FIELD"


def _login(url: str, version: str, username: str, password: str) -> httpx.Response:
    envelope = ('<se:Envelope xmlns:se="http://schemas.xmlsoap.org/soap/envelope/"><se:Header/><se:Body>'
                f'<login xmlns="urn:partner.soap.sforce.com"><username>{username}</username>'
                f"<password>{password}</password></login></se:Body></se:Envelope>")
    return httpx.post(f"{url}/services/Soap/u/{version}", content=envelope,
                      headers={"Content-Type": "text/xml", "SOAPAction": '""'})


def test_soap_login_returns_a_session_for_rest_and_faults_as_documented(sf_emulator):
    ok = _login(sf_emulator.url, "62.0", sf_emulator.username, sf_emulator.password)
    assert ok.status_code == 200 and ok.headers["content-type"].startswith("text/xml")
    text = ok.text
    session = text.split("<sessionId>")[1].split("</sessionId>")[0]
    assert f"<serverUrl>{sf_emulator.url}/services/Soap/u/62.0/{ORG_ID[:15]}</serverUrl>" in text
    assert f"<organizationId>{ORG_ID}</organizationId>" in text and "<passwordExpired>false" in text
    rows = httpx.get(f"{sf_emulator.url}{V}/query", params={"q": "SELECT Id FROM Organization"},
                     headers={"Authorization": f"Bearer {session}"})
    assert rows.status_code == 200 and rows.json()["records"][0]["Id"] == ORG_ID
    bad = _login(sf_emulator.url, "62.0", sf_emulator.username, "wrong")
    assert bad.status_code == 500 and "<faultcode>sf:INVALID_LOGIN</faultcode>" in bad.text
    assert "sf:LoginFault" in bad.text
    retired = _login(sf_emulator.url, "65.0", sf_emulator.username, sf_emulator.password)
    assert retired.status_code == 500 and "sf:UNSUPPORTED_API_VERSION" in retired.text
    hostile = httpx.post(f"{sf_emulator.url}/services/Soap/u/62.0", content='<!DOCTYPE x [<!ENTITY e "x">]><x>&e;</x>')
    assert hostile.status_code == 500 and "INVALID_REQUEST" in hostile.text

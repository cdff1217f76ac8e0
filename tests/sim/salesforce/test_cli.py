"""`qbsf sim salesforce` as a user runs it: a real process on loopback, stopped with Ctrl-C, data kept in --data."""

import os
import signal
import subprocess
import sys

import httpx

from qbsf.sim.salesforce import SalesforceState


def test_sim_salesforce_serves_prints_credentials_and_persists(tmp_path, sf_schema):
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen([sys.executable, "-m", "qbsf.app.cli", "sim", "salesforce", "--port", "0",
                                "--data", str(tmp_path), "--client-id", "my-app", "--client-secret", "s3cret",
                                "--seed-demo", "2"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        first = process.stdout.readline()
        assert first.startswith("Salesforce emulator listening on http://127.0.0.1:"), first
        url = first.split()[-1]
        banner = "".join(process.stdout.readline() for _ in range(4))
        assert "my-app" in banner and "s3cret" in banner and "demo@qbsf.example" in banner
        token = httpx.post(f"{url}/services/oauth2/token", data={
            "grant_type": "client_credentials", "client_id": "my-app", "client_secret": "s3cret"}).json()
        created = httpx.post(f"{url}/services/data/v62.0/sobjects/Account", json={"Name": "Persisted"},
                             headers={"Authorization": f"Bearer {token['access_token']}"})
        assert created.status_code == 201
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=15)
    assert process.returncode == 0, process.stderr.read()
    reopened = SalesforceState(sf_schema, path=tmp_path / "salesforce.sqlite")
    names = [a["Name"] for a in reopened.records("Account")]
    assert len(names) == 3 and names[-1] == "Persisted"  # two seeded demo accounts, then ours
    reopened.close()


def test_sim_salesforce_rejects_a_bad_fault_rate():
    result = subprocess.run([sys.executable, "-m", "qbsf.app.cli", "sim", "salesforce", "--fault-rate", "2"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "not a probability" in result.stderr
    assert "Traceback" not in result.stderr

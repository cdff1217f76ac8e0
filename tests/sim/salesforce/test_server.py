"""The uvicorn runner: free ports, a busy port as a clear error, https a stock client can verify."""

import socket
import ssl

import httpx
import pytest

from qbsf.errors import ConfigError
from qbsf.sim.salesforce import create_app, serve_in_thread


def test_busy_port_is_a_config_error_with_a_hint(sf_state):
    blocker = socket.socket()
    blocker.bind(("127.0.0.1", 0))
    blocker.listen()
    try:
        with pytest.raises(ConfigError, match="cannot listen") as caught:
            serve_in_thread(create_app(sf_state), port=blocker.getsockname()[1])
        assert "--port" in caught.value.hint
    finally:
        blocker.close()


def test_https_certificate_verifies_for_127_0_0_1_and_localhost(sf_state):
    server = serve_in_thread(create_app(sf_state), ssl=True)
    try:
        context = ssl.create_default_context(cafile=str(server.ca_path))
        assert httpx.get(f"{server.url}/services/data/", verify=context).status_code == 200
        localhost = server.url.replace("127.0.0.1", "localhost")
        assert httpx.get(f"{localhost}/services/data/", verify=context).status_code == 200
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"{server.url}/services/data/", verify=ssl.create_default_context())  # untrusted CA
    finally:
        server.stop()
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{server.url}/services/data/", verify=context, timeout=2)  # stopped means stopped

"""A Salesforce REST emulator: OAuth, sObjects, SOQL, collections and composite, faithful enough for real clients.

    state = SalesforceState()                      # in memory; SalesforceState(path=...) for SQLite
    server = serve_in_thread(create_app(state), ssl=True)
    ... server.url, server.ca_path, state.api_calls ...
    server.stop()
"""

from qbsf.sim.salesforce.app import create_app
from qbsf.sim.salesforce.harness import Emulator, start_emulator
from qbsf.sim.salesforce.server import RunningServer, serve_in_thread
from qbsf.sim.salesforce.settings import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, EmulatorSettings
from qbsf.sim.salesforce.state import DEMO_PASSWORD, DEMO_USERNAME, SalesforceState
from qbsf.sim.salesforce.values import ApiError

__all__ = ["DEMO_CLIENT_ID", "DEMO_CLIENT_SECRET", "DEMO_PASSWORD", "DEMO_USERNAME", "ApiError", "Emulator",
           "EmulatorSettings", "RunningServer", "SalesforceState", "create_app", "serve_in_thread", "start_emulator"]

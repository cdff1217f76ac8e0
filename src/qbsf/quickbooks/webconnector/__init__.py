"""QuickBooks Web Connector support: the SOAP endpoint, its users, and the bridge to the sync engine.

``WebConnectorService`` implements the eight operations; ``create_app`` serves
them at ``/qbwc`` on Starlette; ``CompanyBridge`` (one per company) connects
them to :class:`qbsf.quickbooks.transports.webconnector.WebConnectorTransport`.
"""

from qbsf.quickbooks.webconnector.bridge import CompanyBridge, CompanyStatus, SessionCutOff
from qbsf.quickbooks.webconnector.endpoint import create_app
from qbsf.quickbooks.webconnector.hcp import CompanySettings, HostInfo, parse_hcp_response
from qbsf.quickbooks.webconnector.service import WebConnectorService
from qbsf.quickbooks.webconnector.users import UserDirectory, hash_password, verify_password

__all__ = [
    "CompanyBridge",
    "CompanySettings",
    "CompanyStatus",
    "HostInfo",
    "SessionCutOff",
    "UserDirectory",
    "WebConnectorService",
    "create_app",
    "hash_password",
    "parse_hcp_response",
    "verify_password",
]

"""qbsf's Salesforce side: auth flows, the REST client (collections, composite, paging), SOQL escaping, errors."""

from qbsf.salesforce.auth import (
                                  Auth,
                                  ClientCredentialsAuth,
                                  JwtBearerAuth,
                                  StaticTokenAuth,
                                  Token,
                                  UsernamePasswordAuth,
                                  WebServerAuth,
)
from qbsf.salesforce.client import (
                                  ApiUsage,
                                  ChangedWindow,
                                  CompositeResult,
                                  DeletedWindow,
                                  RecordResult,
                                  SalesforceClient,
)
from qbsf.salesforce.errors import ApiLimitExceeded, AuthError, SalesforceError, classify
from qbsf.salesforce.soql import escape, format_soql, in_list, quote

__all__ = [
    "ApiLimitExceeded", "ApiUsage", "Auth", "AuthError", "ChangedWindow", "ClientCredentialsAuth", "CompositeResult",
    "DeletedWindow", "JwtBearerAuth", "RecordResult", "SalesforceClient", "SalesforceError", "StaticTokenAuth",
    "Token", "UsernamePasswordAuth", "WebServerAuth", "classify", "escape", "format_soql", "in_list", "quote",
]

"""The ``.qwc`` file a user loads into the Web Connector, and the registry that keeps its ids stable.

The Web Connector identifies an application by OwnerID (one per qbsf
installation) and FileID (one per company); loading a second application with
the same pair gives QBWC1039. Both GUIDs are therefore made once and kept in
the registry file, beside each company's Web Connector user and password hash.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import tempfile
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from lxml import etree

from qbsf.errors import ConfigError
from qbsf.quickbooks.webconnector.users import UserDirectory, hash_password

_LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1"}
_COMPANY_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._-]{0,62}$")


def new_guid() -> str:
    """A GUID in the braces-and-capitals form the Web Connector expects: ``{XXXXXXXX-…}``."""
    return "{" + str(uuid.uuid4()).upper() + "}"


def new_username(company: str) -> str:
    """A user name nobody can guess from the company name: ``acme-qbwc-`` and 48 random bits.

    Wrong passwords are throttled per (user name, address), so a guessable name cost a company nothing but its
    privacy; a random one also keeps strangers from aiming at a company's login at all.
    """
    slug = re.sub(r"[^a-z0-9]+", "-", company.lower()).strip("-")[:40] or "company"
    return f"{slug}-qbwc-{secrets.token_hex(6)}"


def check_app_url(url: str) -> str:
    """Return ``url`` if the Web Connector will accept it: https, or plain http to this machine only."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"--url {url!r} is not an http(s) URL", hint="use e.g. https://qbsf.example.com/qbwc")
    if parts.scheme == "http" and parts.hostname.lower() not in _LOCAL_HOSTS:
        raise ConfigError(f"the Web Connector refuses plain http for {parts.hostname!r}; it allows http only for "
                          "localhost", hint="serve qbsf over https (qbsf qbwc serve --cert/--key, or a reverse "
                                            "proxy) and use an https:// URL")
    return url.strip()


def check_company_name(company: str) -> str:
    """Return ``company`` if usable as a profile name (letters, digits, space . _ -; up to 63 characters)."""
    if not _COMPANY_NAME.match(company):
        raise ConfigError(f"company name {company!r} is not usable",
                          hint="use letters, digits, spaces, '.', '_' or '-', starting with a letter or digit")
    return company


@dataclass
class CompanyRegistration:
    """One company's Web Connector set-up."""

    file_id: str
    username: str
    password_hash: str = ""
    company_file: str = ""
    run_every_minutes: int = 5


@dataclass
class WebConnectorRegistry:
    """The installation's OwnerID and every company's registration, stored as JSON at ``path``."""

    path: Path
    owner_id: str = field(default_factory=new_guid)
    companies: dict[str, CompanyRegistration] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path) -> WebConnectorRegistry:
        """Read ``path``, or start a new registry (with a fresh OwnerID) if it does not exist yet."""
        if not path.exists():
            return cls(path=path)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            companies = {name: CompanyRegistration(**entry) for name, entry in data["companies"].items()}
            owner_id = data["owner_id"]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ConfigError(f"Web Connector registry {path} is unreadable: {exc}",
                              hint="restore it from a backup; a new one would change the OwnerID and FileIDs, "
                                   "and every .qwc file would have to be loaded again") from None
        return cls(path=path, owner_id=owner_id, companies=companies)

    def save(self) -> None:
        """Write the registry atomically, readable by its owner only (it holds password hashes)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        data = {"owner_id": self.owner_id, "companies": {name: asdict(reg) for name, reg in self.companies.items()}}
        fd, tmp = tempfile.mkstemp(prefix=".webconnector-", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(data, handle, indent=2, sort_keys=True)
            os.chmod(tmp, 0o600)
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def register(self, company: str, *, username: str | None = None, password: str | None = None,
                 company_file: str | None = None, run_every_minutes: int | None = None) -> CompanyRegistration:
        """Create or update ``company``'s registration; its FileID never changes once made."""
        check_company_name(company)
        registration = self.companies.get(company)
        if registration is None:
            default_user = re.sub(r"[^a-z0-9]+", "-", company.lower()).strip("-") + "-qbwc"
            registration = CompanyRegistration(file_id=new_guid(), username=username or default_user)
            self.companies[company] = registration
        elif username:
            registration.username = username
        for name, other in self.companies.items():
            if name != company and other.username.casefold() == registration.username.casefold():
                raise ConfigError(f"Web Connector user {registration.username!r} already serves company {name!r}",
                                  hint="pass --user with a different name")
        if password is not None:
            if len(password) < 8:
                raise ConfigError("the Web Connector password is shorter than 8 characters",
                                  hint="choose a longer one, or leave --password out to have one generated")
            registration.password_hash = hash_password(password)
        if company_file is not None:
            registration.company_file = company_file
        if run_every_minutes is not None:
            if not 1 <= run_every_minutes <= 1440:
                raise ConfigError(f"--every {run_every_minutes} is out of range", hint="use 1 to 1440 minutes")
            registration.run_every_minutes = run_every_minutes
        return registration

    def users(self) -> UserDirectory:
        """A :class:`UserDirectory` of every company's Web Connector user that has a password."""
        directory = UserDirectory()
        for company, registration in self.companies.items():
            if registration.password_hash:
                directory.add_hashed(registration.username, registration.password_hash, company)
        return directory


def qwc_document(*, app_name: str, app_url: str, app_support: str, username: str, owner_id: str, file_id: str,
                 run_every_minutes: int, description: str = "") -> bytes:
    """The ``.qwc`` XML the Web Connector loads (QBType QBFS, IsReadOnly false, scheduled every N minutes)."""
    root = etree.Element("QBWCXML")
    for tag, text in (("AppName", app_name), ("AppID", ""), ("AppURL", check_app_url(app_url)),
                      ("AppDescription", description), ("AppSupport", check_app_url(app_support)),
                      ("UserName", username), ("OwnerID", owner_id), ("FileID", file_id), ("QBType", "QBFS")):
        etree.SubElement(root, tag).text = text
    scheduler = etree.SubElement(root, "Scheduler")
    etree.SubElement(scheduler, "RunEveryNMinutes").text = str(run_every_minutes)
    etree.SubElement(root, "IsReadOnly").text = "false"
    return etree.tostring(root, xml_declaration=True, encoding="utf-8", pretty_print=True)


def qwc_for(registry: WebConnectorRegistry, company: str, *, url: str, support_url: str | None = None) -> bytes:
    """The ``.qwc`` file of a registered ``company``, served at ``url``."""
    registration = registry.companies.get(company)
    if registration is None:
        raise ConfigError(f"company {company!r} has no Web Connector registration", hint="run `qbsf qwc` first")
    return qwc_document(app_name=f"qbsf - {company}", app_url=url, app_support=support_url or url,
                        username=registration.username, owner_id=registry.owner_id, file_id=registration.file_id,
                        run_every_minutes=registration.run_every_minutes,
                        description=f"qbsf keeps Salesforce and QuickBooks company {company!r} in sync")

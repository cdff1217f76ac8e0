"""Hosted-mode fixtures: a shared database on SQLite (one process) and on the test PostgreSQL server."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

URL_FILE = Path(__file__).resolve().parents[2] / ".venv" / "qbsf-test-postgres.url"


def postgres_url() -> str:
    """The test server's URL (`make postgres` writes it); fails, never skips, without one."""
    url = os.environ.get("QBSF_TEST_POSTGRES_URL", "").strip()
    if not url and URL_FILE.is_file():
        url = URL_FILE.read_text(encoding="utf-8").strip()
    if not url:
        pytest.fail("the hosted tests need PostgreSQL: run `make postgres` (make test does it first)", pytrace=False)
    return url


@pytest.fixture
def postgres_schema_url() -> Iterator[str]:
    """A URL on the test server whose tables go to a schema of this test's own, dropped afterwards."""
    base = postgres_url()
    admin = create_engine(base, poolclass=NullPool)
    schema = f"qbsf_hosted_{uuid.uuid4().hex[:12]}"
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in base else "?"
    yield f"{base}{separator}options=-csearch_path%3D{schema}"
    with admin.begin() as connection:
        connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def hosted_url(request, tmp_path) -> str:
    """The shared database: a SQLite file (one process) and a PostgreSQL schema (any number of workers)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'hosted.db'}"
    return request.getfixturevalue("postgres_schema_url")

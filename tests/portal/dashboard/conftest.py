"""Dashboard fixtures: a seeded demo regency in a real PostgreSQL database, the app over it."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Iterator
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask.testing import FlaskClient

from portal.dashboard import create_app
from portal.dashboard.demo import Seeded, seed
from tests.fixtures.postgres import PgServer

NOW = dt.datetime(2026, 12, 1, 10, 0, tzinfo=ZoneInfo("Asia/Jakarta")).timestamp()
"""The dashboard's clock in these tests (records are seeded relative to it)."""


class Clock:
    """A settable clock."""

    def __init__(self, t: float = NOW) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def new_database(server: PgServer, name: str) -> str:
    """A fresh empty database on the session's server; its DSN."""
    import psycopg

    with psycopg.connect(server.dsn, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    return server.dsn.replace("dbname=postgres", f"dbname={name}")


@pytest.fixture(scope="module")
def seeded(pg_server: PgServer, request: pytest.FixtureRequest) -> tuple[str, Seeded]:
    """One demo regency per test module (read-only tests share it)."""
    dsn = new_database(pg_server, "dash_" + request.module.__name__.rsplit(".", 1)[-1][:40])
    return dsn, seed(dsn, NOW)


@pytest.fixture
def fresh(pg_dsn: str) -> tuple[str, Seeded]:
    """A demo regency of this test's own (for tests that change officials or records)."""
    return pg_dsn, seed(pg_dsn, NOW)


def make_app(dsn: str, clock: Clock | None = None) -> Flask:
    """The dashboard over ``dsn`` with a fixed clock."""
    app = create_app(dsn, secrets.token_bytes(32), clock=clock or Clock())
    app.config["TESTING"] = False  # errors go through the error pages, as in production
    return app


def client_for(app: Flask) -> FlaskClient:
    """A test client speaking HTTPS (the session cookie is Secure)."""
    client = app.test_client()
    client.environ_base["wsgi.url_scheme"] = "https"
    return client


@pytest.fixture
def clock() -> Clock:
    """The dashboard's clock (tests may move it)."""
    return Clock()


@pytest.fixture
def app(seeded: tuple[str, Seeded], clock: Clock) -> Iterator[Flask]:
    """The dashboard over the module's demo regency."""
    yield make_app(seeded[0], clock)

"""Fixtures for the portal tests: a real PostgreSQL server (session) and a database per test."""

from tests.fixtures.postgres import pg_dsn, pg_server

__all__ = ["pg_dsn", "pg_server"]

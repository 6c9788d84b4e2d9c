"""Numbered SQL migrations for the portal's PostgreSQL schema (``migrations/NNNN_name.sql``)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MIGRATIONS = Path(__file__).with_name("migrations")
_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")
_LOCK = 0x706F7274616C  # advisory lock id: workers starting together migrate one at a time


@dataclass(frozen=True)
class Migration:
    """One SQL file."""

    version: int
    name: str
    sql: str


def migrations(directory: Path = MIGRATIONS) -> list[Migration]:
    """The migration files in version order; refuses gaps, duplicates and stray names."""
    found: list[Migration] = []
    for path in sorted(directory.glob("*.sql")):
        m = _NAME.match(path.name)
        if m is None:
            raise ValueError(f"migration file {path.name!r} is not named NNNN_name.sql")
        found.append(Migration(int(m.group(1)), path.stem, path.read_text(encoding="utf-8")))
    for i, mig in enumerate(found, start=1):
        if mig.version != i:
            raise ValueError(f"migration {mig.name} should be number {i:04d}")
    return found


def migrate(conn: Any, directory: Path = MIGRATIONS) -> list[str]:
    """Apply every pending migration, each in its own transaction; return the names applied.

    ``conn`` is a psycopg connection in autocommit mode.
    """
    applied: list[str] = []
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK,))
        conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migration (version integer PRIMARY KEY,"
            " name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())"
        )
        done = {r[0] for r in conn.execute("SELECT version FROM schema_migration")}
        for mig in migrations(directory):
            if mig.version in done:
                continue
            with conn.transaction():
                conn.execute(mig.sql)
                conn.execute(
                    "INSERT INTO schema_migration (version, name) VALUES (%s, %s)",
                    (mig.version, mig.name),
                )
            applied.append(mig.name)
    return applied

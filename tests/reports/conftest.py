"""Fixtures for the recipient list, reports and proposals: a real SQLite store, real agents."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from report_helpers import DW_PIN, PIN, TEMPLATE, Kit, make_kit

from kiosk.core.clock import FakeClock


@pytest.fixture
def kit(tmp_path: Path, clock: FakeClock) -> Iterator[Kit]:
    k = make_kit(tmp_path / "kiosk.sqlite3", clock, os.urandom(32))
    k.agents.accounts.enrol("AG-PKH-01", "pkh", "Bu Rina", PIN, TEMPLATE)
    k.agents.accounts.enrol("AG-DW-01", "dasa_wisma", "Bu Sri", DW_PIN, TEMPLATE[::-1])
    yield k
    k.conn.close()

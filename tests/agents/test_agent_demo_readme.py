"""The README's demo agent table is the demo's real accounts (issue 15, problem 12): the
browser test logs every ``DEMO_AGENTS`` entry in, so the README must list exactly those."""

from __future__ import annotations

import re

from kiosk.agents.demo import DEMO_AGENTS
from kiosk.config import REPO_ROOT

ROW = re.compile(
    r"^\| (?P<name>[^|]+?) \| [^|]*\(`(?P<role>\w+)`[^|]*\| `(?P<id>[\w-]+)` \| `(?P<pin>\d+)` \|$"
)


def test_readme_lists_every_demo_agent_with_its_pin() -> None:
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    rows = {
        (m["name"], m["role"], m["id"], m["pin"])
        for m in (ROW.match(line) for line in readme.splitlines())
        if m
    }
    assert rows == {(a.name, a.role, a.agent_id, a.pin) for a in DEMO_AGENTS}
    assert {a.role for a in DEMO_AGENTS} == {"pkh", "tksk", "dasa_wisma"}

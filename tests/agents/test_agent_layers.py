"""The agent service holds rules, the repositories hold the SQL."""

from __future__ import annotations

import ast
from pathlib import Path

import kiosk.agents.service as service_module

SQL_WORDS = ("SELECT ", "INSERT ", "UPDATE ", "DELETE ")


def test_the_agent_service_writes_no_sql_and_imports_no_store() -> None:
    tree = ast.parse(Path(service_module.__file__).read_text())
    strings = [n.value for n in ast.walk(tree) if isinstance(n, ast.Constant)]
    assert not [s for s in strings if isinstance(s, str) and s.lstrip().startswith(SQL_WORDS)]
    calls = [
        n.func.attr
        for n in ast.walk(tree)
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)
    ]
    assert "execute" not in calls
    imported = {
        n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module is not None
    }
    assert not {m for m in imported if m.startswith("kiosk.store")}
    modules = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    assert "sqlite3" not in modules

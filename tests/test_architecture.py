"""The arrows of the architecture, checked on the source: the core stays pure."""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

import pytest

from kiosk.config import REPO_ROOT

CORE = REPO_ROOT / "kiosk" / "core"


def imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


@pytest.mark.parametrize("path", sorted(CORE.rglob("*.py")), ids=lambda p: p.name)
def test_core_imports_only_the_standard_library_and_itself(path: Path) -> None:
    for name in imports(path):
        top = name.split(".")[0]
        allowed = (
            top in sys.stdlib_module_names
            or name.startswith("kiosk.core")
            or name == "kiosk.errors"
        )
        assert allowed, f"{path.relative_to(REPO_ROOT)} imports {name}"


@pytest.mark.parametrize(
    "package",
    ["kiosk/core", "kiosk/services", "kiosk/store", "kiosk/vision", "kiosk/uplink", "kiosk/usb"],
)
def test_kiosk_never_imports_the_ui_firmware_or_provisioning(package: str) -> None:
    for path in (REPO_ROOT / package).rglob("*.py"):
        for name in imports(path):
            top = name.split(".")[0]
            assert top not in {"ui", "firmware", "provisioning", "portal", "flask"}, (
                f"{path.relative_to(REPO_ROOT)} imports {name}"
            )


def test_picamera2_is_imported_only_inside_its_backend() -> None:
    for path in (REPO_ROOT / "kiosk").rglob("*.py"):
        if path.name == "picamera2.py":
            continue
        assert "picamera2" not in imports(path), path


OUTBOX_INSERT = re.compile(r"\bINSERT\s+(?:OR\s+\w+\s+)?INTO\s+[\"'`\[]?outbox\b", re.IGNORECASE)
"""An SQL statement that writes outbox rows (any conflict clause, any quoting)."""


def sql_strings(path: Path) -> list[str]:
    """Every string literal in ``path`` (implicitly joined pieces arrive whole), f-strings too."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = [n.value for n in ast.walk(tree) if isinstance(n, ast.Constant)]
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            found.append(
                "".join(v.value if isinstance(v, ast.Constant) else "{}" for v in node.values)
            )
    return [s for s in found if isinstance(s, str)]


def test_the_outbox_has_one_way_in() -> None:
    """Only ``OutboxRepository.enqueue`` writes outbox rows (it also wakes the relay)."""
    writers = {
        str(path.relative_to(REPO_ROOT))
        for package in ("kiosk", "ui")
        for path in (REPO_ROOT / package).rglob("*.py")
        if any(OUTBOX_INSERT.search(s) for s in sql_strings(path))
    }
    assert writers == {"kiosk/store/outbox.py"}
    tree = ast.parse((REPO_ROOT / "kiosk" / "store" / "outbox.py").read_text(encoding="utf-8"))
    inserting = [
        fn.name
        for fn in ast.walk(tree)
        if isinstance(fn, ast.FunctionDef)
        and any(
            isinstance(n, ast.Constant)
            and isinstance(n.value, str)
            and OUTBOX_INSERT.search(n.value)
            for n in ast.walk(fn)
        )
    ]
    assert inserting == ["enqueue"]


def test_the_outbox_rule_catches_the_spellings_a_new_writer_might_use() -> None:
    for sql in (
        "INSERT INTO outbox (record_id) VALUES (?)",
        'insert or ignore into "outbox" (record_id) VALUES (?)',
        "INSERT\n  INTO outbox(record_id) VALUES (?)",
    ):
        assert OUTBOX_INSERT.search(sql), sql
    assert not OUTBOX_INSERT.search("INSERT INTO outbox_archive (record_id) VALUES (?)")
    assert not OUTBOX_INSERT.search("SELECT * FROM outbox")

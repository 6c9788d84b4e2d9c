"""The arrows of the architecture, checked on the source: the core stays pure."""

from __future__ import annotations

import ast
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

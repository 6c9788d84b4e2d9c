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
    [
        "kiosk/core",
        "kiosk/services",
        "kiosk/store",
        "kiosk/vision",
        "kiosk/uplink",
        "kiosk/usb",
        "kiosk/printer",
        "kiosk/speech",
    ],
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


# --- the arrows of issue 14: views -> services -> ports + core; adapters implement ports -----
ADAPTERS = (
    "kiosk.store",
    "kiosk.crypto",
    "kiosk.vision",
    "kiosk.uplink",
    "kiosk.references",
    "kiosk.printer",
    "kiosk.speech",
)
"""The adapter packages of the kiosk (plus ``firmware``): libraries and devices behind ports."""


def all_imports(path: Path, package: str | None = None) -> set[str]:
    """Every absolute module ``path`` imports, inside functions too, and relative ones resolved
    against the file's own package (``package``, else the one its place in the repo says)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    if package is None:
        package = ".".join(path.relative_to(REPO_ROOT).with_suffix("").parts[:-1])
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0 and node.module:
                found.add(node.module)
            elif node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                found.add(".".join([*base, node.module] if node.module else base))
    return found


def _within(name: str, packages: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in packages)


def sources(*folders: str) -> list[Path]:
    return sorted(p for f in folders for p in (REPO_ROOT / f).rglob("*.py"))


@pytest.mark.parametrize("path", sources("ui"), ids=lambda p: str(p.relative_to(REPO_ROOT)))
def test_views_call_services_never_the_adapters(path: Path) -> None:
    """The screens reach the store, keys, camera and link only through services."""
    wrong = sorted(n for n in all_imports(path) if _within(n, ADAPTERS))
    assert not wrong, f"{path.relative_to(REPO_ROOT)} imports adapters {wrong}"


@pytest.mark.parametrize(
    "path", sources("kiosk/services"), ids=lambda p: str(p.relative_to(REPO_ROOT))
)
def test_services_use_only_ports_and_the_core(path: Path) -> None:
    for name in all_imports(path):
        top = name.split(".")[0]
        allowed = (
            top in sys.stdlib_module_names
            or _within(name, ("kiosk.core", "kiosk.services"))
            or name == "kiosk.errors"
        )
        assert allowed, f"{path.relative_to(REPO_ROOT)} imports {name}"


@pytest.mark.parametrize(
    "path",
    sources(*(p.replace(".", "/") for p in ADAPTERS), "firmware"),
    ids=lambda p: str(p.relative_to(REPO_ROOT)),
)
def test_adapters_implement_ports_and_never_call_services(path: Path) -> None:
    """An adapter may import the ports it implements, never a service (no arrow back)."""
    wrong = sorted(
        n
        for n in all_imports(path)
        if _within(n, ("kiosk.services",)) and n != "kiosk.services.ports"
    )
    assert not wrong, f"{path.relative_to(REPO_ROOT)} imports services {wrong}"


def test_the_arrow_rules_see_what_they_check(tmp_path: Path) -> None:
    """The import scan finds imports inside functions and resolves relative ones."""
    probe = tmp_path / "probe.py"
    probe.write_text(
        "def f():\n    from kiosk.store import db\n    from .villager import common\n",
        encoding="utf-8",
    )
    found = all_imports(probe, package="ui")
    assert {"kiosk.store", "ui.villager"} <= found
    assert _within("kiosk.store.db", ADAPTERS) and not _within("kiosk.storefront", ADAPTERS)


def _printers() -> list[tuple[type, type]]:
    from kiosk.backends import PRINTERS
    from kiosk.services.ports import ReceiptPrinter

    return [(ReceiptPrinter, row.load()) for row in PRINTERS]


def _speech() -> list[tuple[type, type]]:
    from kiosk.services.ports import SpeechSynth
    from kiosk.speech.espeak import Speech
    from kiosk.speech.fake import RecordingSpeech

    return [(SpeechSynth, Speech), (SpeechSynth, RecordingSpeech)]


@pytest.mark.parametrize(
    ("port", "adapter"), _printers() + _speech(), ids=lambda c: getattr(c, "__qualname__", "")
)
def test_the_printer_and_speech_adapters_implement_their_ports(port: type, adapter: type) -> None:
    """One set of types: each adapter (the fake too) has every member of its port in
    ``kiosk.services.ports``, with the same parameters."""
    import inspect

    members = [n for n in vars(port) if not n.startswith("_")]
    assert members, port
    for name in members:
        assert hasattr(adapter, name), f"{adapter.__qualname__} lacks {port.__name__}.{name}"
        want, have = getattr(port, name), getattr(adapter, name)
        if isinstance(want, property):
            assert isinstance(have, property), f"{adapter.__qualname__}.{name}"
            continue
        assert list(inspect.signature(have).parameters) == list(
            inspect.signature(want).parameters
        ), f"{adapter.__qualname__}.{name} differs from {port.__name__}.{name}"

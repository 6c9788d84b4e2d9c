"""Keep docs/protocol.md's generated parts (topic table, schemas) in step with the code.

python -m kiosk.uplink.protocol_doc docs/protocol.md
"""

from __future__ import annotations

import importlib.resources
import sys
from pathlib import Path

from kiosk.uplink.topics import TOPICS, broker_acl

DOC_PREFIX = "perlinsos/v1"

BEGIN, END = "<!-- generated: begin -->", "<!-- generated: end -->"


def generated() -> str:
    """Markdown for every topic and every schema file, in a stable order."""
    lines = [
        "### Topic table (from `kiosk/uplink/topics.py`)",
        "",
        "| name | direction | retained | schema | what |",
        "|---|---|---|---|---|",
    ]
    for t in TOPICS.values():
        retained = "yes" if t.retained else "no"
        schema = f"`{t.schema}`" if t.schema else "—"
        lines.append(f"| `{t.name}` | {t.direction.value} | {retained} | {schema} | {t.doc} |")
    lines += [
        "",
        "### Broker ACL (from `kiosk.uplink.topics.broker_acl`)",
        "",
        "Mosquitto with `use_identity_as_username true`, so `%u` is the client certificate's CN,",
        "the device id. Print it for another prefix with `kiosk outbox acl --prefix P`.",
        "",
        "```",
        broker_acl(DOC_PREFIX).rstrip(),
        "```",
    ]
    lines += ["", "### Schemas (from `kiosk/uplink/schemas/`)"]
    folder = importlib.resources.files("kiosk.uplink.schemas")
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".json"):
            text = entry.read_text(encoding="utf-8").rstrip()
            lines += ["", f"#### `{entry.name}`", "", "```json", text, "```"]
    return "\n".join(lines)


def render(doc: str) -> str:
    """``doc`` with the text between the markers replaced by :func:`generated`."""
    head, sep, rest = doc.partition(BEGIN)
    if not sep or END not in rest:
        raise ValueError(f"protocol doc lacks the {BEGIN} / {END} markers")
    tail = rest.split(END, 1)[1]
    return f"{head}{BEGIN}\n{generated()}\n{END}{tail}"


def main(argv: list[str] | None = None) -> int:
    """Rewrite the generated section of the given protocol document in place."""
    path = Path((argv or sys.argv[1:])[0])
    path.write_text(render(path.read_text(encoding="utf-8")), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

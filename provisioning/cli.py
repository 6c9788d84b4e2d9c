"""``kiosk-provision``: provision a kiosk step by step (resumable), self-test, report, reset.

Usage:

  kiosk-provision [--data-dir DIR] status
  kiosk-provision identity --device-id ID [--cert C --ca CA --portal-key P]
                           [--portal-signing-key S [--portal-signing-key-next S2]]
  kiosk-provision village --code 35.10.01.2001 --name NAME [--location TEXT] [--dusun A,B]
  kiosk-provision network --broker-host H [--broker-port N] [--no-tls] [--offline]
                          [--mqtt-protocol 5|3.1.1]
                          [--wifi-ssid S (--wifi-psk P | --wifi-open)]
  kiosk-provision models --from DIR
  kiosk-provision agents --file SIGNED.json | --none
  kiosk-provision agents --id ID --role R --name N --pin PIN [--face IMG]
  kiosk-provision selftest [--json] [--yes]
  kiosk-provision report [--send]
  kiosk-provision run --plan plan.toml [--yes]
  kiosk-provision reset [--force] [--keep-models]
  kiosk-provision technician-password [--stdin]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tomllib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from kiosk.errors import KioskError

from .context import DEFAULT_NM_DIR, Confirm, Context, no_one_to_ask
from .errors import StepError
from .steps import STEPS, Outcome, run_all, run_step, status

DEFAULT_DATA_DIR = Path("/data/kiosk")
EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_WAITING, EXIT_INTERRUPTED = 0, 1, 2, 3, 130

STEP_ARGS: dict[str, list[tuple[tuple[str, ...], dict[str, Any]]]] = {
    "identity": [
        (("--device-id",), {"help": "device id, e.g. kiosk-3510012001-01"}),
        (("--cert",), {"help": "device certificate issued by the portal CA (PEM)"}),
        (("--ca",), {"help": "CA bundle (PEM)"}),
        (("--portal-key",), {"help": "portal X25519 public key (PEM)"}),
        (("--portal-signing-key",), {"help": "portal Ed25519 signing public key (PEM)"}),
        (
            ("--portal-signing-key-next",),
            {"help": "the portal's next signing key during a key change-over (PEM)"},
        ),
    ],
    "village": [
        (("--code",), {"dest": "village_code", "help": "10-digit Kemendagri village code"}),
        (("--name",), {"help": "kiosk name, e.g. 'Kantor Desa Sumberagung'"}),
        (("--location",), {"help": "where in the building, free text"}),
        (
            ("--dusun",),
            {
                "help": "the village's dusun, comma-separated, e.g. 'Krajan,Sumberejo' (the form"
                " offers them; none: typed)"
            },
        ),
    ],
    "network": [
        (("--broker-host",), {"help": "MQTT broker host name or IP"}),
        (("--broker-port",), {"type": int, "help": "broker port (8883 with TLS)"}),
        (
            ("--no-tls",),
            {
                "dest": "tls",
                "action": "store_false",
                "default": None,
                "help": "plain TCP (test benches only)",
            },
        ),
        (("--topic-prefix",), {"help": "topic prefix (default perlinsos/v1)"}),
        (
            ("--mqtt-protocol",),
            {"choices": ["5", "3.1.1"], "help": "MQTT version of the broker (default 5)"},
        ),
        (("--wifi-ssid",), {"help": "Wi-Fi network name"}),
        (("--wifi-psk",), {"help": "Wi-Fi password (not stored in the state file)"}),
        (
            ("--wifi-open",),
            {"action": "store_true", "default": None, "help": "the Wi-Fi network has no password"},
        ),
        (
            ("--offline",),
            {"action": "store_true", "default": None, "help": "do not try to reach the broker now"},
        ),
    ],
    "models": [(("--from",), {"dest": "source", "help": "folder with SHA256SUMS and models"})],
    "agents": [
        (("--file",), {"help": "agent file signed by the portal"}),
        (("--id",), {"help": "agent id, e.g. AG-3510-001"}),
        (("--role",), {"help": "pkh | tksk | dasa_wisma | operator"}),
        (("--name",), {"help": "agent's display name"}),
        (("--pin",), {"help": "6-12 digit PIN (typed by the agent; never stored in clear)"}),
        (("--face",), {"help": "frontal photo of the agent (JPEG/PNG)"}),
        (("--none",), {"action": "store_true", "default": None, "help": "enrol agents later"}),
    ],
    "report": [
        (
            ("--send",),
            {
                "action": "store_true",
                "default": None,
                "help": "deliver to the portal now (else the kiosk sends it when online)",
            },
        ),
    ],
    "selftest": [],
}
"""Step -> its command-line options (dest = the step's input name)."""


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="kiosk-provision",
        description="Provision a Kios Perlinsos "
        "kiosk. Every step can be re-run; 'run' resumes where it stopped.",
    )
    p.add_argument(
        "--data-dir",
        type=Path,
        default=Path(os.environ.get("KIOSK_DATA_DIR", DEFAULT_DATA_DIR)),
        help="the kiosk's data directory (default $KIOSK_DATA_DIR or /data/kiosk)",
    )
    p.add_argument(
        "--nm-dir", type=Path, default=DEFAULT_NM_DIR, help="NetworkManager keyfile directory"
    )
    p.add_argument(
        "--yes",
        action="store_true",
        help="non-interactive: questions stay unanswered (recorded 'unconfirmed')",
    )
    sub = p.add_subparsers(dest="command", required=True)
    sub.add_parser("status", help="show each step and whether it is done")
    for step in STEPS:
        sp = sub.add_parser(step.name, help=step.title)
        for flags, kw in STEP_ARGS.get(step.name, []):
            sp.add_argument(*flags, **kw)
        if step.name == "selftest":
            sp.add_argument("--json", action="store_true", help="end with one JSON object")
            sp.add_argument("--only", action="append", help="run only this check (repeatable)")
        else:
            sp.add_argument("--again", action="store_true", help="redo even if already done")
    rp = sub.add_parser("run", help="run every step from a plan file, resuming where it stopped")
    rp.add_argument("--plan", type=Path, required=True, help="TOML: one table per step")
    tp = sub.add_parser("technician-password", help="set the local technician page's password")
    tp.add_argument("--stdin", action="store_true", help="read it from standard input")
    xp = sub.add_parser("reset", help="factory reset: destroy keys, database and settings")
    xp.add_argument("--force", action="store_true", help="even if records wait to be sent")
    xp.add_argument("--keep-models", action="store_true", help="keep the installed model pack")
    return p


def interactive_confirm(stream_in: Any = None, stream_out: Any = None) -> Confirm:
    """Ask on the terminal; None when there is no terminal."""
    fin = stream_in or sys.stdin
    fout = stream_out or sys.stderr

    def ask(question: str) -> bool | None:
        if not fin.isatty():
            return None
        fout.write(f"{question} [y/n] ")
        fout.flush()
        answer = fin.readline().strip().lower()
        return answer in ("y", "yes", "ya")

    return ask


def _print_outcome(say: Callable[[str], None], o: Outcome) -> None:
    marks = {"done": "OK  ", "skipped": "OK  ", "waiting": "WAIT", "failed": "FAIL"}
    note = " (already done)" if o.status == "skipped" else ""
    say(f"[{marks[o.status]}] {o.step}{note}")
    if o.error is not None:
        say(f"       {o.error.problem}")
        say(f"       How to fix: {o.error.fix}")


def _exit_for(outcomes: Sequence[Outcome]) -> int:
    if any(o.status == "failed" for o in outcomes):
        return EXIT_FAILED
    if any(o.status == "waiting" for o in outcomes):
        return EXIT_WAITING
    return EXIT_OK


def load_plan(path: Path) -> dict[str, dict[str, Any]]:
    """Read a plan file; relative paths in it are taken relative to the plan's folder."""
    try:
        plan = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as err:
        raise StepError(
            "plan_unreadable",
            f"cannot read the plan {path}: {err}",
            "check the file name and its TOML syntax (see docs/provisioning.md)",
        ) from err
    unknown = sorted(set(plan) - {s.name for s in STEPS})
    if unknown:
        raise StepError(
            "plan_unknown_step",
            f"the plan has unknown sections: {', '.join(unknown)}",
            "use only: " + ", ".join(s.name for s in STEPS),
        )
    path_keys = {
        "cert",
        "ca",
        "portal_key",
        "portal_signing_key",
        "portal_signing_key_next",
        "source",
        "file",
        "face",
    }
    out: dict[str, dict[str, Any]] = {}
    for name, section in plan.items():
        out[name] = {
            k: (str((path.parent / v).resolve()) if k in path_keys and isinstance(v, str) else v)
            for k, v in section.items()
        }
    return out


def _selftest(ctx: Context, args: argparse.Namespace) -> int:
    from .selftest import run_selftest

    only = tuple(args.only) if args.only else None
    result = run_selftest(ctx, ctx.probes, only)
    if args.json:
        print(json.dumps(result, sort_keys=True))
    else:
        for c in result["checks"]:
            ctx.say(f"[{c['status'].upper():^11}] {c['name']}: {c['detail']}")
            if c.get("fix") and c["status"] == "fail":
                ctx.say(f"              How to fix: {c['fix']}")
        ctx.say("Self-test " + ("PASSED" if result["passed"] else "did NOT pass"))
    return EXIT_OK if result["passed"] else EXIT_FAILED


def main(argv: list[str] | None = None, *, context: Context | None = None) -> int:
    """Entry point of ``kiosk-provision``; ``context`` lets tests inject clock and probes."""
    args = _parser().parse_args(argv)
    if context is None:
        confirm = no_one_to_ask if args.yes else interactive_confirm()
        context = Context(args.data_dir.resolve(), confirm=confirm, nm_dir=args.nm_dir)
    ctx = context
    json_mode = args.command == "selftest" and args.json
    if json_mode:
        ctx.say = lambda line: print(line, file=sys.stderr)
    try:
        if args.command == "status":
            for step, rec, ok in status(ctx):
                state = "done" if ok else (rec.status if rec else "not started")
                ctx.say(f"{step.name:<9} {state:<12} {step.title}")
                if rec is not None and rec.error and not ok:
                    ctx.say(f"          {rec.error}\n          How to fix: {rec.fix}")
            return EXIT_OK
        if args.command == "reset":
            from .reset import factory_reset

            result = factory_reset(ctx, force=args.force, keep_models=args.keep_models)
            if result.waiting_lost:
                ctx.say(f"WARNING: {result.waiting_lost} unsent record(s) were destroyed")
            ctx.say(
                f"Destroyed {len(result.shredded)} key file(s); removed "
                f"{len(result.removed)} item(s). The kiosk is blank."
            )
            return EXIT_OK
        if args.command == "technician-password":
            return _technician_password(ctx, args.stdin)
        if args.command == "run":
            outcomes = run_all(ctx, load_plan(args.plan), lambda o: _print_outcome(ctx.say, o))
            return _exit_for(outcomes)
        if args.command == "selftest":
            return _selftest(ctx, args)
        inputs = {dest: getattr(args, dest) for dest in _dests(args.command)}
        outcome = run_step(ctx, args.command, inputs, force=args.again)
        _print_outcome(ctx.say, outcome)
        return _exit_for([outcome])
    except StepError as err:
        ctx.say(f"[FAIL] {err.problem}\n       How to fix: {err.fix}")
        return EXIT_FAILED
    except KeyboardInterrupt:
        ctx.say(
            "[STOP] interrupted; nothing half-applied is kept. Run the same command again "
            "to carry on where it stopped."
        )
        return EXIT_INTERRUPTED
    except KioskError as err:
        ctx.say(f"[FAIL] {err}")
        return EXIT_FAILED


def _technician_password(ctx: Context, from_stdin: bool) -> int:
    """Set the technician page's password (typed twice on a terminal)."""
    import getpass

    from .technician import set_secret

    if from_stdin:
        secret = sys.stdin.readline().rstrip("\n")
    else:
        secret = getpass.getpass("New technician password: ")
        if getpass.getpass("Again: ") != secret:
            ctx.say("[FAIL] the two passwords differ\n       How to fix: type the same one twice")
            return EXIT_FAILED
    set_secret(ctx.layout, secret)
    ctx.say("[OK  ] technician password set; the page is at http://127.0.0.1:8080/technician/")
    return EXIT_OK


def _dests(command: str) -> list[str]:
    out = []
    for flags, kw in STEP_ARGS.get(command, []):
        out.append(kw.get("dest") or flags[0].lstrip("-").replace("-", "_"))
    return out


if __name__ == "__main__":
    raise SystemExit(main())

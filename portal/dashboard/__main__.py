"""Run and administer the regency dashboard.

    python -m portal.dashboard --dsn "host=/run/postgresql dbname=portal" serve --port 8090 \
        --secret-file /etc/perlinsos/dashboard.key --host-name dasbor.example.go.id
    python -m portal.dashboard --dsn ... official add camat-pesisir --role kecamatan \
        --area 35.10.01 --name "Bapak Hadi"            (asks for the password twice)
    python -m portal.dashboard --dsn ... area add 35.10.01 "Pesisir"
    python -m portal.dashboard --dsn ... device add kiosk-3510012001-01 35.10.01.2001
    python -m portal.dashboard --dsn ... demo-seed     (fictional regency + demo officials)

The DSN may also come from $PORTAL_DSN. Every command applies pending portal migrations first.
"""

from __future__ import annotations

import argparse
import getpass
import os
import secrets
import sys
import time
from pathlib import Path

import psycopg

from portal.dashboard.areas import parse_area
from portal.dashboard.officials import create_official
from portal.ingest.migrate import migrate


def secret_from_file(path: Path) -> bytes:
    """The session key in ``path`` (created 0600 with 32 random bytes if missing)."""
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(secrets.token_bytes(32))
    return path.read_bytes()


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("Kata sandi: ")
    if getpass.getpass("Ulangi kata sandi: ") != first:
        raise ValueError("the two passwords differ")
    return first


def _serve(args: argparse.Namespace) -> int:
    from waitress import serve

    from portal.dashboard import create_app

    if args.secret_file is None:
        print("note: no --secret-file, sessions end when the dashboard restarts", file=sys.stderr)
        key = secrets.token_bytes(32)
    else:
        key = secret_from_file(args.secret_file)
    app = create_app(
        args.dsn, key, tz=args.tz, hosts=args.host_name or None,
        secure_cookies=not args.insecure_cookie,
    )  # fmt: skip
    print(f"dashboard on http://{args.host}:{args.port}/ (serve it behind HTTPS)")
    serve(app, host=args.host, port=args.port, threads=8, ident="perlinsos-dashboard")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and run one command."""
    p = argparse.ArgumentParser(prog="python -m portal.dashboard", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    p.add_argument("--dsn", default=os.environ.get("PORTAL_DSN"), help="libpq DSN of the portal")
    sub = p.add_subparsers(dest="command", required=True)
    s = sub.add_parser("serve", help="serve the dashboard (waitress)")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=8090)
    s.add_argument("--secret-file", type=Path, help="session key file (created if missing)")
    s.add_argument("--tz", default="Asia/Jakarta", help="time zone of the days shown")
    s.add_argument("--host-name", action="append", help="host name answered (repeatable)")
    s.add_argument("--insecure-cookie", action="store_true",
                   help="cookie without Secure, for a plain-HTTP trial on a LAN only")  # fmt: skip
    o = sub.add_parser("official", help="create or disable an official")
    osub = o.add_subparsers(dest="action", required=True)
    add = osub.add_parser("add")
    add.add_argument("username")
    add.add_argument("--name", required=True)
    add.add_argument("--role", required=True, choices=["village", "kecamatan", "regency"])
    add.add_argument("--area", required=True, help="area code, e.g. 35.10.01")
    add.add_argument("--password-stdin", action="store_true")
    off = osub.add_parser("disable")
    off.add_argument("username")
    a = sub.add_parser("area", help="name an area")
    a.add_argument("action", choices=["add"])
    a.add_argument("code")
    a.add_argument("name")
    d = sub.add_parser("device", help="place a kiosk in its village")
    d.add_argument("action", choices=["add"])
    d.add_argument("device_id")
    d.add_argument("village_code")
    d.add_argument("--name", default="")
    sub.add_parser("demo-seed", help="write a fictional demo regency and its officials")
    args = p.parse_args(argv)
    if not args.dsn:
        p.error("give --dsn or set PORTAL_DSN")
    try:
        with psycopg.connect(args.dsn, autocommit=True, connect_timeout=10) as conn:
            migrate(conn)
            if args.command == "official":
                if args.action == "add":
                    create_official(conn, args.username, args.name, args.role, args.area,
                                    _password(args.password_stdin))  # fmt: skip
                else:
                    conn.execute("UPDATE official SET active = false WHERE username = %s",
                                 (args.username,))  # fmt: skip
            elif args.command == "area":
                named = parse_area(args.code)
                if named is None:
                    raise ValueError(f"{args.code!r} is not a 4-, 6- or 10-digit area code")
                conn.execute(
                    "INSERT INTO area (code, name) VALUES (%s, %s)"
                    " ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name",
                    (named.code, args.name),
                )
            elif args.command == "device":
                village = parse_area(args.village_code)
                if village is None or len(village.code) != 10:
                    raise ValueError(f"{args.village_code!r} is not a 10-digit village code")
                conn.execute(
                    "INSERT INTO device (device_id, village_code, name) VALUES (%s, %s, %s)"
                    " ON CONFLICT (device_id) DO UPDATE SET village_code = EXCLUDED.village_code,"
                    " name = EXCLUDED.name",
                    (args.device_id, village.code, args.name),
                )
    except (ValueError, psycopg.Error) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    if args.command == "demo-seed":
        from portal.dashboard.demo import DEMO_PASSWORD, OFFICIALS, seed

        seed(args.dsn, time.time())
        for username, _name, role, area in OFFICIALS:
            print(f"{username} ({role} {area}) password {DEMO_PASSWORD}")
    if args.command == "serve":
        return _serve(args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

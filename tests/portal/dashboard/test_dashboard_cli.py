"""The dashboard's command line against real PostgreSQL: officials, areas, devices, demo seed;
bad input is a one-line error and exit code 2, never a traceback."""

from __future__ import annotations

import io
from pathlib import Path

import psycopg
import pytest

from portal.dashboard.__main__ import main, secret_from_file

pytestmark = pytest.mark.postgres


def test_official_area_and_device_commands(
    pg_dsn: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("sandi-yang-panjang\n"))
    add = ["official", "add", "camat-1", "--role", "kecamatan", "--area", "35.10.01"]
    assert main(["--dsn", pg_dsn, *add, "--name", "Bapak Camat", "--password-stdin"]) == 0
    assert main(["--dsn", pg_dsn, "area", "add", "35.10.01", "Pesisir"]) == 0
    assert main(["--dsn", pg_dsn, "device", "add", "kiosk-a-01", "35.10.01.2001",
                 "--name", "Kantor Desa"]) == 0  # fmt: skip
    with psycopg.connect(pg_dsn) as conn:
        row = conn.execute("SELECT role, area_code, password_hash FROM official").fetchone()
        assert row is not None and row[:2] == ("kecamatan", "351001")
        assert "sandi-yang-panjang" not in row[2] and row[2].startswith("scrypt:")
        assert conn.execute("SELECT * FROM area").fetchall() == [("351001", "Pesisir")]
        assert conn.execute("SELECT * FROM device").fetchall() == [
            ("kiosk-a-01", "3510012001", "Kantor Desa")
        ]
    assert main(["--dsn", pg_dsn, "official", "disable", "camat-1"]) == 0
    with psycopg.connect(pg_dsn) as conn:
        assert conn.execute("SELECT active FROM official").fetchone() == (False,)
    capsys.readouterr()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["official", "add", "desa-1", "--role", "village", "--area", "351001", "--name", "x",
          "--password-stdin"], "10-digit"),
        (["area", "add", "35.1", "Nama"], "not a 4-, 6- or 10-digit"),
        (["device", "add", "kiosk-b", "351001", ], "not a 10-digit village code"),
    ],
)  # fmt: skip
def test_bad_input_is_one_line_and_exit_2(
    pg_dsn: str, argv: list[str], message: str, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    monkeypatch.setattr("sys.stdin", io.StringIO("sandi-yang-panjang\n"))
    assert main(["--dsn", pg_dsn, *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err and "Traceback" not in err


def test_unreachable_database_is_a_clear_error(capsys: pytest.CaptureFixture[str]) -> None:
    from tests.fixtures.mqtt import free_port

    dsn = f"host=127.0.0.1 port={free_port()} user=x dbname=x connect_timeout=2"
    assert main(["--dsn", dsn, "area", "add", "3510", "Contoh"]) == 2
    assert capsys.readouterr().err.startswith("error: ")


def test_demo_seed_prints_the_demo_logins(pg_dsn: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--dsn", pg_dsn, "demo-seed"]) == 0
    out = capsys.readouterr().out
    assert "kabupaten (regency 3510)" in out and "desa-sarongan (village 3510012002)" in out


def test_secret_file_is_created_private_and_reused(tmp_path: Path) -> None:
    path = tmp_path / "dashboard.key"
    key = secret_from_file(path)
    assert len(key) == 32 and path.stat().st_mode & 0o777 == 0o600
    assert secret_from_file(path) == key

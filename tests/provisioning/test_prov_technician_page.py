"""The local technician page: login (throttled), status, village form, self-test, report."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_babel import Babel

from kiosk.config import REPO_ROOT
from provisioning.context import Context
from provisioning.selftest import Probes
from provisioning.technician import MAX_FAILURES, set_secret
from provisioning.tomlfile import update_config
from ui.security import harden
from ui.technician import register

SECRET = "kunci teknisi desa"


@pytest.fixture
def app(ctx: Context) -> Flask:
    """A bare app with the hardening of the kiosk UI and the technician page."""
    app = Flask("t", static_folder=str(REPO_ROOT / "ui" / "static"))
    harden(app)
    Babel(  # as ui.create_app does: the technician page is Indonesian first
        app,
        default_locale="id",
        default_translation_directories=str(REPO_ROOT / "ui" / "translations"),
    )
    app.config["KIOSK_DATA_DIR"] = str(ctx.data_dir)
    app.config["KIOSK_TECHNICIAN_PROBES"] = Probes(clock_synchronised=lambda: True,
                                                   min_free_bytes=1)  # fmt: skip
    register(app)
    set_secret(ctx.layout, SECRET)
    return app


def _csrf(client: FlaskClient, path: str) -> str:
    page = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match, page
    return match.group(1)


def _login(client: FlaskClient, password: str = SECRET) -> int:
    token = _csrf(client, "/technician/login")
    resp = client.post("/technician/login", data={"password": password, "csrf_token": token})
    return resp.status_code


def test_pages_need_a_login(app: Flask) -> None:
    client = app.test_client()
    resp = client.get("/technician/")
    assert resp.status_code == 302 and resp.location.endswith("/technician/login")
    assert _login(client, "wrong password") == 401
    assert _login(client) == 302
    page = client.get("/technician/").get_data(as_text=True)
    for step in ("identity", "village", "network", "models", "agents", "selftest", "report"):
        assert f'id="step-{step}"' in page


def test_login_is_throttled(app: Flask) -> None:
    client = app.test_client()
    for _ in range(MAX_FAILURES):
        assert _login(client, "wrong password") == 401
    token = _csrf(client, "/technician/login")
    resp = client.post("/technician/login", data={"password": SECRET, "csrf_token": token})
    assert resp.status_code == 401  # locked, even with the right password
    assert "Terlalu banyak kata sandi salah" in resp.get_data(as_text=True)


def test_remote_addresses_are_refused(app: Flask) -> None:
    client = app.test_client()
    resp = client.get("/technician/login", environ_overrides={"REMOTE_ADDR": "192.0.2.7"})
    assert resp.status_code == 403


def test_forms_without_csrf_token_are_refused(app: Flask) -> None:
    client = app.test_client()
    assert _login(client) == 302
    assert (
        client.post("/technician/village", data={"village_code": "3510012001"}).status_code == 400
    )


def test_village_form_validates_and_saves(app: Flask, ctx: Context) -> None:
    client = app.test_client()
    assert _login(client) == 302
    token = _csrf(client, "/technician/")
    form = {"village_code": "99.99.99.9999", "name": "X", "csrf_token": token}
    bad = client.post("/technician/village", data=form)
    text = bad.get_data(as_text=True)
    assert "province part (99)" in text and "Cara memperbaiki" in text
    good = client.post("/technician/village", data={"village_code": "35.10.01.2001",
                       "name": "Kantor Desa X", "location": "", "csrf_token": token})  # fmt: skip
    assert "Desa 3510012001 disimpan." in good.get_data(as_text=True)
    assert 'name = "Kantor Desa X"' in ctx.layout.config.read_text()


def test_selftest_page_shows_each_check(app: Flask, ctx: Context, pack_src: Path) -> None:
    from provisioning.steps import run_step

    assert run_step(ctx, "models", {"source": pack_src}).status == "done"
    update_config(ctx.layout.config, {"uplink": {"enabled": False},
                                      "camera": {"backend": "replay"}})  # fmt: skip
    client = app.test_client()
    assert _login(client) == 302
    token = _csrf(client, "/technician/")
    page = client.post("/technician/selftest", data={"csrf_token": token}).get_data(as_text=True)
    assert 'id="check-model_embedder"' in page
    assert re.search(r'id="check-gpio_status_led" class="row-unconfirmed"', page, re.S)
    assert "Uji mandiri: perlu dikonfirmasi" in page


def test_report_page_without_a_report_says_how_to_make_one(app: Flask) -> None:
    client = app.test_client()
    assert _login(client) == 302
    assert "kiosk-provision report" in client.get("/technician/report").get_data(as_text=True)


def test_the_page_is_indonesian_and_failed_checks_stand_out(app: Flask) -> None:
    client = app.test_client()
    assert _login(client) == 302
    home = client.get("/technician/").get_data(as_text=True)
    assert "Identitas perangkat" in home and "belum dimulai" in home
    assert "Device identity" not in home and "not started" not in home
    page = client.post(
        "/technician/selftest", data={"csrf_token": _csrf(client, "/technician/")}
    ).get_data(as_text=True)
    row = re.search(r'<tr id="check-models" class="row-fail">(.*?)</tr>', page, re.S)
    assert row, page  # no model pack here: a failed row, marked, with icon, word and fix
    assert "warning.svg" in row.group(1) and "GAGAL" in row.group(1)
    assert "Cara memperbaiki" in row.group(1)


def test_the_password_field_has_an_on_screen_keyboard(app: Flask) -> None:
    page = app.test_client().get("/technician/login").get_data(as_text=True)
    assert 'class="osk" data-target="password"' in page
    assert all(f'data-osk="{k}"' in page for k in "0123456789qwertyuiopasdfghjklzxcvbnm")


def test_the_self_test_checks_the_broker_the_running_kiosk_uses(app: Flask, ctx: Context) -> None:
    import socket

    from kiosk.config import load_config

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    port = listener.getsockname()[1]
    try:
        base = load_config(None)
        app.config["KIOSK_CONFIG"] = base.model_copy(
            update={"uplink": base.uplink.model_copy(update={"host": "127.0.0.1", "port": port})}
        )
        client = app.test_client()
        assert _login(client) == 302
        page = client.post(
            "/technician/selftest", data={"csrf_token": _csrf(client, "/technician/")}
        ).get_data(as_text=True)
    finally:
        listener.close()
    row = re.search(r'<tr id="check-broker"[^>]*>(.*?)</tr>', page, re.S)
    assert row, page
    assert f"127.0.0.1:{port}" in row.group(1) and ":1883" not in row.group(1)
    assert "cannot reach the broker" not in row.group(1)


def test_every_self_test_row_is_in_indonesian(app: Flask, ctx: Context, pack_src: Path) -> None:
    """Check names and detail lines come from the catalogue, not the console's English."""
    import json

    from markupsafe import escape

    from kiosk.languages import translator
    from provisioning.selftest import CheckResult
    from provisioning.steps import run_step

    assert run_step(ctx, "models", {"source": pack_src}).status == "done"
    update_config(ctx.layout.config, {"uplink": {"enabled": False},
                                      "camera": {"backend": "replay"}})  # fmt: skip
    client = app.test_client()
    assert _login(client) == 302
    page = client.post(
        "/technician/selftest", data={"csrf_token": _csrf(client, "/technician/")}
    ).get_data(as_text=True)
    checks = json.loads(ctx.layout.selftest.read_text())["checks"]
    assert len(checks) >= 10
    indonesian = translator("id")
    for c in checks:
        row = re.search(rf'<tr id="check-{c["name"]}"[^>]*>(.*?)</tr>', page, re.S)
        assert row, c["name"]
        said = CheckResult(**c).text(indonesian)
        assert c["msgid"] and str(escape(said)) in row.group(1), (c["name"], said)
        assert str(escape(c["detail"])) not in row.group(1), f"English on the page: {c['detail']}"
        title = re.search(r'<th scope="row">(.*?)</th>', row.group(1))
        assert title and title.group(1) != c["name"], f"{c['name']} has no name in words"

"""The dashboard's pages over a real PostgreSQL database seeded through the ingest store:
login, lock-out, CSRF, scoping per role, bad input pages, no NIK anywhere, small cells."""

from __future__ import annotations

import re
from typing import Any

import psycopg
import pytest
from conftest import Clock, client_for, make_app
from flask import Flask
from flask.testing import FlaskClient

from portal.dashboard.demo import DEMO_PASSWORD, SMALL_VILLAGE, Seeded
from portal.dashboard.officials import LOCK_S, MAX_FAILED, AddressThrottle
from tests.fixtures.mqtt import free_port

pytestmark = pytest.mark.postgres

SIXTEEN_DIGITS = re.compile(r"\d{16}")
ROLES = {
    "kabupaten": "3510",
    "camat-pesisir": "351001",
    "desa-sarongan": "3510012002",
}


def csrf(client: FlaskClient, path: str = "/masuk") -> str:
    """The CSRF token from the form on ``path``."""
    html = client.get(path).get_data(as_text=True)
    m = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert m, html
    return m.group(1)


def login(client: FlaskClient, username: str, password: str = DEMO_PASSWORD) -> Any:
    return client.post(
        "/masuk",
        data={"username": username, "password": password, "csrf_token": csrf(client)},
    )


def logged_in(app: Flask, username: str) -> FlaskClient:
    client = client_for(app)
    r = login(client, username)
    assert r.status_code == 302, r.get_data(as_text=True)
    return client


def page(client: FlaskClient, path: str, status: int = 200) -> str:
    r = client.get(path)
    html = r.get_data(as_text=True)
    assert r.status_code == status, (path, r.status_code, html[:600])
    assert not SIXTEEN_DIGITS.search(html), f"{path}: a 16-digit run (a NIK?) in the page"
    assert r.headers["Content-Security-Policy"].startswith("default-src 'none'")
    return html


def test_anonymous_visitor_is_sent_to_the_login(app: Flask) -> None:
    c = client_for(app)
    assert c.get("/").headers["Location"].endswith("/masuk")
    assert c.get("/wilayah/3510").headers["Location"].endswith("/masuk")
    assert "Masuk ke dasbor" in page(c, "/masuk")


@pytest.mark.parametrize(("username", "code"), sorted(ROLES.items()))
def test_each_role_lands_on_its_area_and_cookie_is_secure(
    app: Flask, username: str, code: str
) -> None:
    c = client_for(app)
    r = login(c, username)
    assert r.headers["Location"].endswith(f"/wilayah/{code}")
    cookie = r.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Strict" in cookie
    html = page(c, f"/wilayah/{code}")
    assert 'id="area-title"' in html and "Kesehatan kios" in html


def test_scoping_own_area_and_below_only(app: Flask) -> None:
    camat = logged_in(app, "camat-pesisir")
    page(camat, "/wilayah/3510012001")  # a village in the kecamatan
    assert "di luar wilayah tugas Anda" in page(camat, "/wilayah/3510", 403)
    assert "di luar wilayah tugas Anda" in page(camat, "/wilayah/351002", 403)
    assert "di luar wilayah tugas Anda" in page(camat, "/wilayah/3510022001", 403)
    desa = logged_in(app, "desa-sarongan")
    for other in ("3510", "351001", "3510012001"):
        assert "Bukan wilayah Anda" in page(desa, f"/wilayah/{other}", 403)
    regency = logged_in(app, "kabupaten")
    for code in ("351001", "351002", "3510032002"):
        page(regency, f"/wilayah/{code}")
    assert "Bukan wilayah Anda" in page(regency, "/wilayah/3578", 403)  # another regency


def test_unknown_and_malformed_areas_get_clear_pages(app: Flask) -> None:
    c = logged_in(app, "kabupaten")
    assert "tidak dikenali" in page(c, "/wilayah/abc", 404)
    assert "tidak dikenali" in page(c, "/wilayah/35100", 404)
    assert "tidak dikenali" in page(c, "/wilayah/3510010101900001", 404)  # a NIK, not echoed
    assert "tidak ditemukan di portal" in page(c, "/wilayah/351099", 404)
    assert "tidak ada di dasbor" in page(c, "/tidak-ada", 404)
    assert "Permintaan tidak diizinkan" in page(c, "/keluar", 405)


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("dari=2026-13-01", "tidak dikenali"),
        ("sampai=kemarin", "tidak dikenali"),
        ("dari=2026-12-01&sampai=2026-11-01", "harus sebelum"),
        ("dari=2020-01-01&sampai=2026-12-01", "paling lama 366 hari"),
        ("dari=" + "9" * 300, "tidak dikenali"),
        ("sampai=3510010101900001", "tidak dikenali"),  # a NIK in the wrong field: not echoed
    ],
)
def test_malformed_dates_get_a_clear_page(app: Flask, query: str, message: str) -> None:
    c = logged_in(app, "kabupaten")
    html = page(c, f"/wilayah/3510?{query}", 400)
    assert message in html and "Permintaan tidak dapat diproses" in html


def test_regency_page_shows_the_seeded_figures(app: Flask, seeded: tuple[str, Seeded]) -> None:
    regs = seeded[1].registrations
    c = logged_in(app, "kabupaten")
    html = page(c, "/wilayah/3510?dari=2026-11-01&sampai=2026-11-30")
    assert re.search(rf'id="total-new">{len(regs)}<', html), "every seeded registration counted"
    for name in ("Pesisir", "Gunungsari", "Sumberwaras"):
        assert f"Kecamatan {name}</a>" in html
    assert html.count('<rect class="bar"') == 30
    assert "Suhu terlalu tinggi" in html and "Jam tidak dapat dipercaya" in html
    assert "Antrean tertahan 2 hari" in html and "Ruang disk hampir habis" in html
    assert "Tidak terlihat 3 jam" in html


def test_small_village_breakdown_is_suppressed(app: Flask) -> None:
    c = logged_in(app, "kabupaten")
    html = page(c, f"/wilayah/{SMALL_VILLAGE}")
    assert 'id="outcomes-hidden"' in html and 'id="total-assisted">&lt;5 data<' in html
    kec = page(c, "/wilayah/351002")
    row = kec[kec.index("Temurejo</a>") :].split("</tr>")[0]
    assert "&lt;5 data" in row and "%" not in row
    full = page(c, "/wilayah/3510012001")
    assert 'id="outcomes"' in full and "Terverifikasi: <strong>" in full


def test_every_page_of_every_role_is_free_of_niks(app: Flask, seeded: tuple[str, Seeded]) -> None:
    niks = {r["nik"] for r in seeded[1].registrations}
    assert all(len(n) == 16 for n in niks)
    for username, code in ROLES.items():
        c = logged_in(app, username)
        codes = [code, *(v for v in seeded[1].kiosks.values() if v.startswith(code))]
        for area in codes:
            html = page(c, f"/wilayah/{area}?dari=2026-10-01&sampai=2026-12-01")
            assert not any(n in html for n in niks)


def test_wrong_passwords_lock_the_account_then_it_opens_again(fresh: tuple[str, Seeded]) -> None:
    clock = Clock()
    app = make_app(fresh[0], clock)
    c = client_for(app)
    r = login(c, "camat-pesisir", "salah-sekali")
    assert r.status_code == 401
    assert "Nama pengguna atau kata sandi salah" in r.get_data(as_text=True)
    for _ in range(MAX_FAILED - 1):
        r = login(c, "camat-pesisir", "salah-lagi")
    assert r.status_code == 429 and "dikunci sementara" in r.get_data(as_text=True)
    r = login(c, "camat-pesisir")  # the right password, still locked
    assert r.status_code == 429 and "dikunci sementara" in r.get_data(as_text=True)
    clock.t += LOCK_S + 1
    assert login(c, "camat-pesisir").status_code == 302


def test_unknown_user_and_address_throttle(seeded: tuple[str, Seeded]) -> None:
    clock = Clock()
    throttle = AddressThrottle(limit=3, window_s=60, clock=clock)
    app = make_app(seeded[0], clock)
    app.extensions["dashboard"]["throttle"] = throttle
    c = client_for(app)
    for name in ("siapa", "bukan", "tidakada"):
        r = login(c, name, "apa-saja-1234")
        assert r.status_code == 401
    r = login(c, "kabupaten")  # right password, but this address guessed too often
    assert r.status_code == 429 and "Terlalu banyak percobaan" in r.get_data(as_text=True)
    clock.t += 61
    assert login(c, "kabupaten").status_code == 302


def test_post_without_csrf_token_is_refused(app: Flask) -> None:
    c = client_for(app)
    c.get("/masuk")
    r = c.post("/masuk", data={"username": "kabupaten", "password": DEMO_PASSWORD})
    assert r.status_code == 400
    assert "kedaluwarsa" in r.get_data(as_text=True)
    c2 = logged_in(app, "kabupaten")
    assert c2.post("/keluar", data={}).status_code == 400
    token = csrf(c2, "/wilayah/3510")
    assert c2.post("/keluar", data={"csrf_token": token}).status_code == 302
    assert c2.get("/wilayah/3510").headers["Location"].endswith("/masuk")


def test_disabled_official_loses_the_session(fresh: tuple[str, Seeded]) -> None:
    app = make_app(fresh[0])
    c = logged_in(app, "desa-sarongan")
    page(c, "/wilayah/3510012002")
    with psycopg.connect(fresh[0], autocommit=True) as conn:
        conn.execute("UPDATE official SET active = false WHERE username = 'desa-sarongan'")
    assert c.get("/wilayah/3510012002").headers["Location"].endswith("/masuk")


def test_database_down_is_a_clear_page_not_a_bare_500() -> None:
    app = make_app(f"host=127.0.0.1 port={free_port()} user=portal dbname=x connect_timeout=2")
    c = client_for(app)
    token = csrf(c)
    r = c.post("/masuk", data={"username": "a", "password": "b", "csrf_token": token})
    html = r.get_data(as_text=True)
    assert r.status_code == 503 and "Basis data portal tidak dapat dihubungi" in html


def test_unexpected_error_is_a_clear_page(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    from portal.dashboard import queries

    def broken(*_a: object) -> None:
        raise RuntimeError("boom")

    c = logged_in(app, "kabupaten")
    monkeypatch.setattr(queries, "report", broken)
    html = page(c, "/wilayah/3510", 500)
    assert "Terjadi kesalahan di portal" in html and "boom" not in html

"""The dashboard's own gettext catalogue: every text of portal/dashboard is a msgid translated
in Indonesian (the default) and English; the switch changes the language of every page and
keeps it across log-in and log-out."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po
from conftest import client_for
from flask import Flask, session
from flask.testing import FlaskClient
from test_dashboard_views import ROLES, csrf, login, page

from portal.dashboard import i18n, present
from portal.dashboard.demo import SMALL_VILLAGE
from portal.dashboard.health import duration, size

pytestmark = pytest.mark.postgres

PACKAGE = Path(i18n.__file__).parent
HOLE = re.compile(r"%\(\w+\)[sd]")


def msgids() -> set[str]:
    """Every msgid in the dashboard's sources now (templates and Python), by its babel.cfg."""
    with (PACKAGE / "babel.cfg").open() as fh:
        method_map, options_map = parse_mapping_cfg(fh)
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None}
    found = extract_from_dir(str(PACKAGE), method_map, options_map, keywords=keywords)
    return {m if isinstance(m, str) else m[0] for _f, _n, m, _c, _x in found if m}


def translations(code: str, compiled: bool = False) -> dict[str, tuple[str, ...]]:
    """msgid -> its translated forms (empty forms kept, fuzzy entries left out)."""
    name = "messages.mo" if compiled else "messages.po"
    with (i18n.CATALOGUES / code / "LC_MESSAGES" / name).open("rb") as fh:
        cat = read_mo(fh) if compiled else read_po(fh)
    return {
        (m.id if isinstance(m.id, str) else m.id[0]): (
            tuple(m.string) if isinstance(m.string, (tuple, list)) else (m.string,)
        )
        for m in cat
        if m.id and not m.fuzzy
    }


@pytest.mark.parametrize("code", i18n.CODES)
def test_every_msgid_is_translated_with_the_same_placeholders(code: str) -> None:
    catalogue = translations(code)
    ids = msgids()
    assert len(ids) > 100
    missing = sorted(m for m in ids if not all(catalogue.get(m, ("",))))
    assert not missing, f"untranslated in {code}: {missing}"
    wrong = sorted(
        m for m, forms in catalogue.items()
        if any(set(HOLE.findall(f)) - {"%(num)d"} != set(HOLE.findall(m)) - {"%(num)d"}
               for f in forms)
    )  # fmt: skip
    assert not wrong, f"placeholders differ in {code}: {wrong}"
    stale = sorted(set(catalogue) - ids)
    assert not stale, f"msgids no source uses any more, in {code}: {stale}"


@pytest.mark.parametrize("code", i18n.CODES)
def test_the_compiled_catalogue_is_the_po(code: str) -> None:
    assert translations(code, compiled=True) == translations(code)


def test_the_catalogue_folders_are_the_dashboard_languages() -> None:
    folders = {p.parent.parent.name for p in i18n.CATALOGUES.glob("*/LC_MESSAGES/messages.po")}
    assert folders == set(i18n.CODES) and i18n.DEFAULT == "id"


def test_templates_hold_no_text_outside_gettext() -> None:
    text = re.compile(r">([^<>]*[A-Za-z]{3,}[^<>]*)<")
    offenders = []
    for tpl in (PACKAGE / "templates").glob("*.html"):
        source = re.sub(r"{[{%#].*?[}%#]}", "", tpl.read_text(), flags=re.S)
        offenders += [f"{tpl.name}: {t.strip()}" for t in text.findall(source) if t.strip()]
    assert not offenders


def test_numbers_durations_and_sizes_follow_the_language(app: Flask) -> None:
    for code, share, count, age, disk in (
        ("id", "12,5 %", "12.345", "3 jam", "3,5 GB"),
        ("en", "12.5 %", "12,345", "3 hours", "3.5 GB"),
    ):
        with app.test_request_context():
            session[i18n.SESSION_KEY] = code
            assert present.pct(1, 8) == share and present.number(12345) == count
            assert duration(3 * 3600) == age and size(int(3.5 * 1024**3)) == disk
    assert duration(60) == "60 detik" and duration(1) == "1 detik"  # outside a request: id


def switch(client: FlaskClient, lang: str, back: str = "/masuk") -> str:
    r = client.post("/bahasa", data={"lang": lang, "next": back, "csrf_token": csrf(client)})
    assert r.status_code == 302
    return str(r.headers["Location"])


INDONESIAN = re.compile(
    r"\b(yang|tidak|belum|dari|dengan|wilayah|pendaftaran|sanggahan|petugas|percobaan|"
    r"kesehatan|masuk|keluar|antrean|suhu|tanggal|jumlah|terakhir|diterima|menunggu)\b",
    re.I,
)
"""Indonesian words that no English page may show (names of places and kiosks are data)."""


def visible(html: str) -> str:
    html = re.sub(r"<style[^>]*>.*?</style>", " ", html, flags=re.S)
    return re.sub(r"<[^>]+>", " ", html)


def test_english_pages_hold_no_indonesian_and_the_choice_survives_login(app: Flask) -> None:
    c = client_for(app)
    assert "Masuk ke dasbor" in page(c, "/masuk")  # Indonesian first
    assert switch(c, "en").endswith("/masuk")
    html = page(c, "/masuk")
    assert '<html lang="en">' in html and "Log in to the dashboard" in html
    assert not INDONESIAN.findall(visible(html))
    assert login(c, "kabupaten").status_code == 302  # a fresh session, the language kept
    for path, status in (
        ("/wilayah/3510", 200), ("/wilayah/351001", 200), (f"/wilayah/{SMALL_VILLAGE}", 200),
        ("/wilayah/3578", 403), ("/wilayah/abc", 404), ("/wilayah/3510?dari=x", 400),
        ("/tidak-ada", 404),
    ):  # fmt: skip
        html = page(c, path, status)
        assert '<html lang="en">' in html, path
        assert not INDONESIAN.findall(visible(html)), (path, INDONESIAN.findall(visible(html)))
    assert "Kiosk health" in page(c, "/wilayah/3510")
    c.post("/keluar", data={"csrf_token": csrf(c, "/wilayah/3510")})
    assert "Log in to the dashboard" in page(c, "/masuk")
    switch(c, "id")
    assert "Masuk ke dasbor" in page(c, "/masuk")


@pytest.mark.parametrize("username", sorted(ROLES))
def test_indonesian_pages_hold_no_english_text(app: Flask, username: str) -> None:
    english = {m for m, (t, *_r) in translations("id").items() if t != m and len(m) > 3}
    c = client_for(app)
    assert login(c, username).status_code == 302
    html = visible(page(c, f"/wilayah/{ROLES[username]}"))
    shown = sorted(m for m in english if "%" not in m and re.search(rf"\b{re.escape(m)}\b", html))
    assert not shown


def test_the_switch_refuses_other_sites_and_unknown_languages(app: Flask) -> None:
    c = client_for(app)
    for evil in ("//evil.example/x", "https://evil.example/", "/\\evil.example"):
        assert switch(c, "en", evil) == "/"
    switch(c, "xx")  # not a dashboard language: the default
    assert '<html lang="id">' in page(c, "/masuk")

"""The dashboard in Debian's headless Chromium at 1280x800: each role logs in through the form,
lands on its own area, follows the links down, and is refused other areas. Every page is
axe-checked and makes no request off the machine; screenshots go to artifacts/screenshots/
(and to docs/img/ with DASHBOARD_DOCS_SHOTS=1)."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from typing import Any

import pytest
from conftest import Clock, make_app

from portal.dashboard.demo import DEMO_PASSWORD, Seeded
from tests.ui.browser import AXE_TAGS, REPO, SHOTS, Server, axe_source, launch_chromium

pytestmark = [pytest.mark.browser, pytest.mark.postgres, pytest.mark.slow]

DOCS_IMG = REPO / "docs" / "img"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's Chromium through Playwright (never a downloaded browser)."""
    with launch_chromium() as b:
        yield b


@pytest.fixture(scope="module")
def server(seeded: tuple[str, Seeded]) -> Iterator[str]:
    """The dashboard served by waitress on loopback; its base URL (localhost: a secure context,
    so the Secure session cookie is kept as over HTTPS)."""
    s = Server(make_app(seeded[0], Clock()))
    yield f"http://localhost:{s.port}"
    s.close()


class Visit:
    """One official's browser context: requests seen, axe checks, screenshots."""

    def __init__(self, browser: Any, base: str) -> None:
        self.base = base
        self.context = browser.new_context(
            viewport={"width": 1280, "height": 800}, locale="id-ID", timezone_id="Asia/Jakarta"
        )
        self.page = self.context.new_page()
        self.page.set_default_timeout(15_000)
        self.requests: list[str] = []
        self.page.on("request", lambda r: self.requests.append(r.url))
        self._axe = axe_source()

    def check(self, name: str, *, docs: bool = False) -> str:
        """Axe, no 16-digit run, a screenshot; returns the page text."""
        page = self.page
        page.wait_for_load_state("load")
        html = page.content()
        assert not re.search(r"\d{16}", html), f"{name}: a 16-digit run in the page"
        page.evaluate(self._axe)
        violations = page.evaluate(
            "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})"
            ".then(r => r.violations.map(v => ({id: v.id, help: v.help,"
            " nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 5)})))",
            AXE_TAGS,
        )
        assert violations == [], f"axe on {name}: {json.dumps(violations)}"
        out = SHOTS / "1280x800" / f"dashboard-{name}.png"
        out.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(out), full_page=True)
        if docs and os.environ.get("DASHBOARD_DOCS_SHOTS") == "1":
            DOCS_IMG.mkdir(parents=True, exist_ok=True)
            from PIL import Image  # a palette PNG: a third of the size, text stays sharp

            with Image.open(out) as img:
                small = img.convert("RGB").quantize(colors=64)
                small.save(DOCS_IMG / f"dashboard-{name}.png", optimize=True)
        return str(page.inner_text("body"))

    def login(self, username: str, password: str = DEMO_PASSWORD) -> None:
        page = self.page
        page.goto(self.base + "/")
        page.fill("#username", username)
        page.fill("#password", password)
        page.click("#login-form button[type=submit]")
        page.wait_for_load_state("load")

    def close(self) -> None:
        foreign = [u for u in self.requests if not u.startswith(self.base + "/")]
        assert foreign == [], f"requests that left the machine: {foreign}"
        self.context.close()


@pytest.fixture
def visit(browser: Any, server: str) -> Iterator[Visit]:
    v = Visit(browser, server)
    yield v
    v.close()


def test_wrong_password_then_regency_official_walks_down(visit: Visit) -> None:
    page = visit.page
    visit.login("kabupaten", "bukan-sandinya")
    assert "kata sandi salah" in page.inner_text("#login-error")
    visit.check("login-error")
    visit.login("kabupaten")
    assert page.url.endswith("/wilayah/3510")
    text = visit.check("regency", docs=True)
    assert "Kabupaten Contoh" in page.inner_text("#area-title")
    assert "Suhu terlalu tinggi" in text and "Jam tidak dapat dipercaya" in text
    page.click("#children a:has-text('Kecamatan Pesisir')")
    page.wait_for_url("**/wilayah/351001?**")
    visit.check("regency-kecamatan")
    page.click("#children a:has-text('Sarongan')")
    page.wait_for_url("**/wilayah/3510012002?**")
    assert "Desa/Kelurahan Sarongan" in page.inner_text("#area-title")
    page.click("nav.crumbs a:has-text('Kabupaten Contoh')")
    page.wait_for_url("**/wilayah/3510?**")
    page.goto(visit.base + "/wilayah/3578")
    assert "Bukan wilayah Anda" in page.inner_text("#error")
    page.goto(visit.base + "/wilayah/3510?dari=2026-31-12")
    assert "Tanggal awal tidak dikenali" in page.inner_text("#error-text")
    visit.check("bad-date")
    page.goto(visit.base + "/wilayah/3510")
    page.click("#logout")
    page.wait_for_url("**/masuk")
    page.goto(visit.base + "/wilayah/3510")
    assert page.url.endswith("/masuk")


def test_kecamatan_official_sees_its_villages_only(visit: Visit) -> None:
    page = visit.page
    visit.login("camat-pesisir")
    assert page.url.endswith("/wilayah/351001")
    text = visit.check("kecamatan", docs=True)
    assert "Per Desa/Kelurahan" in text
    links = page.eval_on_selector_all("#children a", "els => els.map(e => e.textContent)")
    assert links == ["Desa/Kelurahan Sumberagung", "Desa/Kelurahan Sarongan",
                     "Desa/Kelurahan Kandangan"]  # fmt: skip
    assert page.locator("nav.crumbs a").count() == 0  # the regency is not theirs
    for other in ("3510", "351002", "3510022001"):
        page.goto(visit.base + f"/wilayah/{other}")
        assert "di luar wilayah tugas Anda" in page.inner_text("#error-text")
    visit.check("kecamatan-refused", docs=True)


def test_village_official_sees_its_village_only(visit: Visit) -> None:
    page = visit.page
    visit.login("desa-sarongan")
    assert page.url.endswith("/wilayah/3510012002")
    text = visit.check("village", docs=True)
    assert "Antrean tertahan 2 hari" in text and "kiosk-3510012002-01" in text
    assert page.locator("#children").count() == 0
    page.fill("#dari", "2026-11-24")
    page.fill("#sampai", "2026-11-30")
    page.click("#period button")
    page.wait_for_url("**dari=2026-11-24&sampai=2026-11-30")
    assert page.locator("svg rect.bar").count() == 7
    for other in ("3510", "351001", "3510012001"):
        page.goto(visit.base + f"/wilayah/{other}")
        assert "Bukan wilayah Anda" in page.inner_text("#error")


def test_login_page_screenshot(visit: Visit) -> None:
    visit.page.goto(visit.base + "/masuk")
    assert "Masuk ke dasbor" in visit.check("login", docs=True)


def test_official_switches_the_dashboard_to_english_and_back(visit: Visit) -> None:
    page = visit.page
    page.goto(visit.base + "/masuk")
    page.click("#lang-en")
    page.wait_for_load_state("load")
    assert "Log in to the dashboard" in visit.check("login-en")
    assert page.get_attribute("html", "lang") == "en"
    visit.login("camat-pesisir")  # the choice survives the new session of the login
    assert page.url.endswith("/wilayah/351001")
    text = visit.check("kecamatan-en", docs=True)
    assert "Kiosk health" in text and "By Village" in text and "Backlog stuck for 2 days" in text
    page.click("#children a:has-text('Sarongan')")
    page.wait_for_url("**/wilayah/3510012002?**")
    page.click("#lang-id")  # back on the same page and period, in Indonesian
    page.wait_for_url("**/wilayah/3510012002?**")
    assert "Desa/Kelurahan Sarongan" in page.inner_text("#area-title")
    assert page.get_attribute("html", "lang") == "id"
    assert page.get_attribute("#lang-id", "aria-pressed") == "true"

"""Browser-test plumbing: serve the app with waitress on 127.0.0.1, drive Debian's Chromium,
screenshot and check every screen (axe-core, page weight, local-only requests, CSP errors)."""

from __future__ import annotations

import contextlib
import json
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

REPO = Path(__file__).resolve().parents[2]
SHOTS = REPO / "artifacts" / "screenshots"
CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--autoplay-policy=no-user-gesture-required",
]
SIZES = {"800x480": (800, 480), "1280x720": (1280, 720)}
"""The kiosk's screen and a larger one; every screen must work at both."""
MAX_PAGE_BYTES = 250 * 1024
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]


def axe_source() -> str:
    """axe.min.js from $AXE_CORE_JS or tests/ui/node_modules (``npm install --prefix tests/ui
    axe-core@4``)."""
    candidates = [
        os.environ.get("AXE_CORE_JS", ""),
        str(Path(__file__).parent / "node_modules" / "axe-core" / "axe.min.js"),
    ]
    for c in candidates:
        if c and Path(c).is_file():
            return Path(c).read_text(encoding="utf-8")
    pytest.fail(
        "axe-core missing: run `npm install --prefix tests/ui axe-core@4` or set AXE_CORE_JS"
    )


@contextlib.contextmanager
def launch_chromium() -> Iterator[Any]:
    """Debian's headless Chromium through Playwright (never a downloaded browser)."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} missing: apt-get install chromium (scripts/dev test does)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


class Server:
    """A waitress server for one app on an ephemeral loopback port, in a thread."""

    def __init__(self, app: Flask) -> None:
        from waitress.server import create_server

        self._server = create_server(app, host="127.0.0.1", port=0, threads=6)
        self.port = self._server.effective_port
        self.base = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._server.run, daemon=True)
        self._thread.start()
        self._closed = False

    def close(self) -> None:
        """Stop serving (again: nothing)."""
        if self._closed:
            return
        self._closed = True
        self._server.close()
        self._thread.join(timeout=5)


@dataclass
class Checker:
    """Per-page checks; collects failures and writes screenshots."""

    page: Any
    base: str
    size: str
    axe: str
    requests: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    shots: list[str] = field(default_factory=list)
    prefix: str = ""
    n: int = 0

    def attach(self) -> None:
        """Listen to every request and console error of the page."""
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.on(
            "console", lambda m: self.console_errors.append(m.text) if m.type == "error" else None
        )

    def screen(self, name: str) -> dict[str, Any]:
        """Screenshot the current screen, run axe on it, check its weight; returns axe results."""
        self.page.wait_for_load_state("load")
        self.n += 1
        out = SHOTS / self.size / f"{self.prefix}{self.n:02d}-{name}.png"
        out.parent.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(out))
        self.shots.append(str(out))
        if not self.page.evaluate("typeof window.axe !== 'undefined'"):
            self.page.evaluate(self.axe)
        result = self.page.evaluate(
            "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})"
            ".then(r => r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,"
            " nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 5)})))",
            AXE_TAGS,
        )
        assert result == [], f"axe violations on {name} at {self.size}: {json.dumps(result)}"
        weight = self.page.evaluate(
            "() => performance.getEntriesByType('navigation').concat("
            "performance.getEntriesByType('resource'))"
            ".filter(e => !e.name.includes('/speech/') && !e.name.includes('/live/'))"
            ".reduce((s, e) => s + (e.decodedBodySize || 0), 0)"
        )
        assert weight <= MAX_PAGE_BYTES, f"{name}: page weight {weight} bytes"
        small = self.page.evaluate(
            "() => Array.from(document.querySelectorAll('button, a, input, label.option'))"
            ".filter(e => e.offsetParent !== null && !e.classList.contains('visually-hidden')"
            " && getComputedStyle(e).opacity !== '0' && e.type !== 'hidden')"
            ".map(e => [e.outerHTML.slice(0, 80), e.getBoundingClientRect()])"
            ".filter(([h, r]) => r.width > 1 && (r.width < 48 || r.height < 48)).map(([h]) => h)"
        )
        assert small == [], f"touch targets under 48 px on {name}: {small}"
        return {"weight": weight}

    def assert_local(self) -> None:
        """Every request went to the kiosk itself, and no CSP or script error was logged."""
        foreign = [u for u in self.requests if not u.startswith(self.base + "/")]
        assert foreign == [], f"requests that left the machine: {foreign}"
        assert self.console_errors == [] or all(
            "404" in e or "Failed to load resource" in e for e in self.console_errors
        ), self.console_errors


@contextlib.contextmanager
def browse(
    chromium: Any,
    app: Any,
    prefix: str,
    size: str = "800x480",
    timeout_ms: int = 30_000,
) -> Iterator[tuple[Server, Checker]]:
    """Serve ``app``, open a touch page at ``size`` and a :class:`Checker` whose screenshots
    are named ``prefix``...; on a clean exit every request must have stayed local. The page,
    the context and the server are closed however the block ends."""
    server = Server(app)
    w, h = SIZES[size]
    context = chromium.new_context(viewport={"width": w, "height": h}, has_touch=True)
    try:
        page = context.new_page()
        page.set_default_timeout(timeout_ms)
        checker = Checker(page, server.base, size, axe_source(), prefix=prefix)
        checker.attach()
        yield server, checker
        checker.assert_local()
    finally:
        context.close()
        server.close()


# --- steps many browser tests share --------------------------------------------------------
def ready(page: Any) -> None:
    """Wait until the current screen can be used: its load event (kiosk.js, deferred, has run).

    A click that navigates returns once the new document is committed, not loaded; a keypad
    key or a stepper touched before kiosk.js runs does nothing (on a loaded machine the script
    can come seconds after the HTML)."""
    page.wait_for_load_state("load")


def type_on_keypad(page: Any, digits: str) -> None:
    ready(page)
    page.click("[data-key=clear]")
    for d in digits:
        page.click(f".keypad [data-key='{d}']")


def answer_screen(page: Any) -> None:
    """Give every question on the current questionnaire screen a valid answer (a grouped
    screen has several: each stepper and each yes/no pair is answered in its own row)."""
    if page.locator(".keypad").count():
        type_on_keypad(page, "3510011501200003")
        answer_dusun(page)
        return
    if page.locator("#m-name").count():  # a KK member: the head, typed without a NIK
        fill_member(page)
        return
    if page.locator(".wg-row").count():  # their daily activities: no difficulty, not pregnant
        for row in page.locator(".wg-row").all():
            row.locator("label.option").first.click()  # "no difficulty"
        if page.locator("[aria-labelledby=m-pregnant-label]").count():
            page.locator("[aria-labelledby=m-pregnant-label] label.option").last.click()
        return
    if page.locator("#add-member").count():  # the member list: Next checks it
        return
    for stepper in page.locator(".stepper").all():
        # "-" on an empty counter gives 0 where 0 is allowed (children, elderly), "+" gives 1
        zero = stepper.get_attribute("data-min") == "0"
        stepper.locator("[data-step='-1']" if zero else "[data-step='1']").click()
    for group in page.locator(".options").all():
        group.locator("label.option").first.click()


def answer_dusun(page: Any, name: str = "Krajan") -> None:
    """The dusun beside the No. KK: chosen from the village's list when the kiosk has one
    (the first name, or ``name``), else typed."""
    field = page.locator("#q-dusun")
    if not field.count():
        return
    if field.evaluate("e => e.tagName") == "SELECT":
        names = field.locator("option").all_inner_texts()
        page.select_option("#q-dusun", name if name in names else names[1])
    else:
        page.fill("#q-dusun", name)


def fill_member(page: Any, **over: str) -> None:
    """Fill the first member screen (defaults: the head, a woman of 45, no NIK)."""
    values = {"name": "Siti Aminah", "nik": "", "age": "45", **over}
    for key in ("name", "nik", "age"):
        page.fill(f"#m-{key}", values[key])
    page.select_option("#m-relation", over.get("relation", "head"))
    page.select_option("#m-school", over.get("school", "left"))
    page.select_option("#m-work", over.get("work", "farmer"))
    sex = over.get("sex", "F")
    page.locator(f"label.option:has(input[name=sex][value={sex}])").click()
    page.locator("label.option:has(input[name=chronic][value=no])").click()


def answer_questionnaire(page: Any, c: Checker) -> None:
    for _ in range(40):
        ready(page)  # the screen Next (or the caller's click) opened, with its script
        if "/consent" in page.url:
            return
        name = "household-" + page.url.rsplit("/", 1)[-1]
        answer_screen(page)
        c.screen(name)
        assert page.locator("button[value=next]").is_visible()
        assert page.evaluate(
            "() => document.querySelector('button[value=next]').getBoundingClientRect().bottom"
            " <= window.innerHeight"
        ), f"{name}: the Next button is off screen"
        page.click("button[value=next]")
    raise AssertionError("the questionnaire did not reach consent")


def answer_and_send(page: Any, c: Checker) -> None:
    """From the first question: answer them all, agree to the consent, send from the review
    screen; ends on the receipt."""
    answer_questionnaire(page, c)
    page.click("button[value=agree]")
    page.wait_for_url("**/review")
    page.click("button[value=send]")
    page.wait_for_url("**/receipt")


def start_registration(page: Any, c: Checker, lang: str = "id") -> None:
    page.goto(c.base + "/")
    c.screen("attract")
    page.click(".attract-button")
    c.screen("language")
    page.click(f"button[value={lang}]")
    c.screen("menu")
    page.click("form[action='/register'] button")


def fail_face_three_times(page: Any, c: Checker, verifier: Any, nik: str) -> None:
    """From the attract screen: type ``nik``, then three face checks that fail (the scripted
    fake ``verifier``), ending on the "an agent can help" result."""
    from ui_doubles import face

    from kiosk.core.session import Outcome

    start_registration(page, c)
    type_on_keypad(page, nik)
    page.click("#nik-form button[type=submit]")
    page.wait_for_url("**/face")
    verifier.script(face(Outcome.RETRY), face(Outcome.RETRY), face(Outcome.RETRY))
    for attempt in range(3):
        page.click(".capture-form button[type=submit]")
        page.wait_for_url("**/result")
        if attempt < 2:
            page.click("form[action='/result/retry'] button")
            page.wait_for_url("**/face")


def agent_login(page: Any, c: Checker, name: str, pin: str) -> None:
    """From anywhere: the agent login screen, ``name`` chosen, ``pin`` typed on the keypad,
    the face check passed, ending on the agent's home screen."""
    page.goto(c.base + "/agent/login")
    page.locator("label.option", has_text=name).click()
    type_on_keypad(page, pin)
    page.click("#login-form button[type=submit]")
    page.wait_for_url("**/agent/face")
    page.click("#face-check")
    page.wait_for_url("**/agent/home")


def fits(page: Any, selector: str) -> bool:
    """Every element matching ``selector`` is wholly inside the viewport (not cut, not
    scrolled away) and at least 48 px high."""
    return bool(
        page.evaluate(
            "s => Array.from(document.querySelectorAll(s)).every(e => {"
            " const r = e.getBoundingClientRect(); return r.top >= 0 && r.left >= 0"
            " && r.bottom <= window.innerHeight && r.right <= window.innerWidth"
            " && r.height >= 48; })",
            selector,
        )
    )


def page_fits(page: Any, width: int = 800, height: int = 480, *, buttons: bool = True) -> None:
    """The screen's content fits ``width`` x ``height`` (and, with ``buttons``, its bottom
    buttons are whole on screen)."""
    w, h = page.evaluate(
        "() => [document.documentElement.scrollWidth, document.documentElement.scrollHeight]"
    )
    assert w <= width and h <= height, (w, h)
    for box in page.locator(".actions-bottom .btn").all() if buttons else []:
        r = box.bounding_box()
        assert r is not None and r["y"] + r["height"] <= height, r


def grey_jpeg() -> bytes:
    """A small grey JPEG standing in for a camera frame."""
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (320, 240), (90, 110, 130)).save(buf, "JPEG")
    return buf.getvalue()


def check_status(page: Any, c: Checker, nik: str, receipt: str, *, to_result: bool = True) -> None:
    """From the menu: the status check by ``nik`` and ``receipt`` code, to its result (without
    ``to_result``, only up to submitting the code: the caller waits for what comes)."""
    page.goto(c.base + "/menu")
    page.click("form[action='/status'] button")
    page.wait_for_url("**/status/nik")
    type_on_keypad(page, nik)
    page.click("#nik-form button[type=submit]")
    page.wait_for_url("**/status/code")
    type_on_keypad(page, receipt.replace("-", ""))
    page.click("#code-form button[type=submit]")
    if to_result:
        page.wait_for_url("**/status/result")


@dataclass
class KioskRun:
    """A served UI kit with agent mode, in one touch page: the set-up most browser tests
    share (``kit``: ``ui_kit.Kit``, ``agents``: ``agent_doubles.Agents``)."""

    kit: Any
    agents: Any
    c: Checker
    speech: Any
    tmp: Path
    server: Server

    @property
    def page(self) -> Any:
        return self.c.page

    def spoken(self, selector: str = "#prompt-audio") -> str:
        """The text behind the page's spoken prompt (what espeak-ng will say)."""
        src = self.page.get_attribute(selector, "src") or ""
        key = src.rsplit("/", 1)[-1].removesuffix(".wav")
        return str(self.speech._known[key][1])

    def fits(self, selector: str) -> bool:
        """Every element matching ``selector`` is whole on screen (see :func:`fits`)."""
        return fits(self.page, selector)


@contextlib.contextmanager
def kiosk_run(
    chromium: Any,
    cfg: Any,
    tmp_path: Path,
    prefix: str,
    *,
    size: str = "800x480",
    timeout_ms: int = 15_000,
    speech: bool = True,
    help_caller: bool = False,
    **kit_extras: Any,
) -> Iterator[KioskRun]:
    """Build the UI kit (with the kiosk's speech cache unless ``speech`` is false) and its agent
    service, serve it and open a page (see :func:`browse`); ``help_caller``: "call an agent"
    queues a real help request."""
    from agent_doubles import attach_agents
    from ui_kit import build_kit

    from kiosk.speech.espeak import Speech
    from ui import services

    voice = Speech(tmp_path / "speech-cache") if speech else None
    kit = build_kit(cfg, tmp_path, speech=voice, **kit_extras)
    agents = attach_agents(kit, tmp_path)
    if help_caller:
        from kiosk.agents.service import HelpCaller

        services(kit.app).agent = HelpCaller(agents.svc)
    with browse(chromium, kit.app, prefix, size=size, timeout_ms=timeout_ms) as (server, c):
        yield KioskRun(kit, agents, c, voice, tmp_path, server)


@contextlib.contextmanager
def served_kiosk(
    chromium: Any,
    cfg: Any,
    prefix: str,
    *,
    speech: bool = False,
    timeout_ms: int = 60_000,
    before: Any = None,
) -> Iterator[tuple[Any, Checker]]:
    """The real kiosk as ``kiosk.app.build_kiosk`` composes it (replay camera, no uplink, no
    device; spoken prompts if ``speech``), started, served and open in a page (see
    :func:`browse`); ``before(kiosk)`` runs before serving. Stopped however the block ends."""
    from kiosk.app import build_kiosk

    if speech:
        cfg = cfg.model_copy(update={"ui": cfg.ui.model_copy(update={"speech": True})})
    kiosk = build_kiosk(cfg, with_uplink=False, with_device=False, secret_key=b"k" * 32)
    kiosk.start()
    try:
        if before is not None:
            before(kiosk)
        with browse(chromium, kiosk.wsgi_app, prefix, timeout_ms=timeout_ms) as (_server, c):
            yield kiosk, c
    finally:
        kiosk.stop()


def nik_and_face(page: Any, nik: str) -> None:
    """On the NIK screen: type ``nik``, pass the face check (the fake's default answer) and
    go on from its result to the questionnaire."""
    type_on_keypad(page, nik)
    page.click("#nik-form button[type=submit]")
    page.wait_for_url("**/face")
    page.click(".capture-form button[type=submit]")
    page.wait_for_url("**/result")
    page.click("a[href='/household']")


def to_identify(page: Any, c: Checker, lang: str = "id") -> None:
    """From the attract screen, in ``lang``, to the registration's NIK screen (no
    screenshots: see :func:`start_registration` for the checked walk)."""
    page.goto(c.base + "/")
    page.click(".attract-button")
    page.click(f"button[value={lang}]")
    page.click("form[action='/register'] button")
    page.wait_for_url("**/identify")

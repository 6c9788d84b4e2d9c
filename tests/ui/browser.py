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
def type_on_keypad(page: Any, digits: str) -> None:
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

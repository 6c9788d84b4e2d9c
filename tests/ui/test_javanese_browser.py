"""A full first registration in Javanese (basa Jawa krama), in headless Chromium at 800x480,
through the real composed kiosk (replay camera, real face models, demo NIK): every screen is in
Javanese, and the language screen takes five languages, each named and spoken in itself."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from babel.messages.pofile import read_po
from browser import Checker, answer_screen, served_kiosk, type_on_keypad

from kiosk import languages
from kiosk.config import KioskConfig
from kiosk.core.ids import parse_receipt

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
JV = languages.translator("jv")
VISIBLE_TEXT = """() => {
  const out = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const e = n.parentElement;
    if (!e || e.closest('[hidden], script, style') || e.offsetParent === null) continue;
    const t = n.textContent.replace(/\\s+/g, ' ').trim();
    if (t) out.push(t);
  }
  return out;
}"""


def english_only() -> set[str]:
    """Msgids whose Javanese differs from the English: none of them may be seen on a screen."""
    path = ROOT / "ui" / "translations" / "jv" / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as fh:
        cat = read_po(fh)
    return {str(m.id) for m in cat if m.id and m.string and m.string != m.id and len(m.id) > 3}


@pytest.fixture
def composed(cfg: KioskConfig, shared_dir: Path, chromium: Any) -> Iterator[tuple[Any, Checker]]:
    with served_kiosk(chromium, cfg, "jv-", speech=True) as (kiosk, checker):
        yield kiosk, checker


class Javanese:
    """Checks each screen: ``lang="jv"``, and no English text where Javanese exists."""

    def __init__(self, c: Checker) -> None:
        self.c = c
        self.english = english_only()
        self.texts: dict[str, list[str]] = {}

    def screen(self, name: str, *expected_msgids: str) -> None:
        """Check the current screen, with the Javanese of ``expected_msgids`` on it."""
        page = self.c.page
        self.c.screen(name)
        assert page.get_attribute("html", "lang") == "jv", name
        texts = page.evaluate(VISIBLE_TEXT)
        leaked = sorted(t for t in texts if t in self.english)
        assert not leaked, f"{name}: English shown in Javanese: {leaked}"
        body = " ".join(texts)
        for msgid in expected_msgids:
            assert JV(msgid) != msgid and JV(msgid) in body, f"{name}: no {JV(msgid)!r}"
        self.texts[name] = texts


def test_a_first_registration_in_javanese(composed: tuple[Any, Checker]) -> None:
    kiosk, c = composed
    person = next(p for p in kiosk.demo.people if p.expect == "verified")
    page = c.page
    jv = Javanese(c)
    page.goto(c.base + "/")
    page.click(".attract-button")
    c.screen("language")
    button = page.locator("button[value=jv]")
    assert button.inner_text() == "Basa Jawa" and button.get_attribute("lang") == "jv"
    button.click()
    jv.screen("menu", "What would you like to do?", "Register", "Call an agent")
    page.click("form[action='/register'] button")
    jv.screen("identify", "Type your NIK")
    type_on_keypad(page, "35100145019")
    page.click("#nik-form button[type=submit]")
    error = page.inner_text("#nik-error")
    assert "NIK kedah 16 angka" in error and "11" in error, error  # a core message, in krama
    jv.screen("identify-bad-nik")
    type_on_keypad(page, person.nik)
    page.click("#nik-form button[type=submit]")
    page.wait_for_url("**/face")
    page.wait_for_function("() => document.getElementById('preview').naturalWidth > 64")
    jv.screen("capture", "Take photo")
    page.click(".capture-form button[type=submit]")
    page.wait_for_url("**/result")
    jv.screen("result", "Your face matches your NIK")
    page.click("a[href='/household']")
    questions = 0
    while "/consent" not in page.url:  # every question screen, answered as the other walks do
        questions += 1
        assert questions <= 25, "the questionnaire did not reach consent"
        answer_screen(page)
        jv.screen(f"household-{questions}", "Next")
        assert page.evaluate(
            "() => document.querySelector('button[value=next]').getBoundingClientRect().bottom"
            " <= window.innerHeight"
        ), f"household-{questions}: the Next button is off screen in Javanese"
        page.click("button[value=next]")
    assert JV("Family card number (No. KK)") in " ".join(jv.texts["household-1"])
    assert any(JV("Who is listed on the family card?") in " ".join(t) for t in jv.texts.values())
    jv.screen("consent", "Consent to use personal data", "Yes, I agree", "I do not agree")
    summary = page.inner_text("main")
    assert JV("This data is only for registering for social assistance.") in summary
    page.click("#consent-full")
    jv.screen("consent-full", "Under the Personal Data Protection Law, you have the right to:")
    page.click("button[value=agree]")
    page.wait_for_url("**/review")
    jv.screen("review", "Check your answers", "Send")
    page.click("button[value=send]")
    page.wait_for_url("**/receipt")
    jv.screen("receipt", "Your registration number")
    number = page.inner_text(".receipt-no")
    assert parse_receipt(number) == number
    assert kiosk.registration.active


def test_the_language_screen_takes_five_languages_each_spoken_in_itself(
    composed: tuple[Any, Checker], monkeypatch: pytest.MonkeyPatch
) -> None:
    kiosk, c = composed
    extra = (
        languages.Language("su", "Basa Sunda", voice="id"),
        languages.Language("mad", "Basa Madhura", voice="id"),
    )
    monkeypatch.setattr(languages, "BY_CODE", {**languages.BY_CODE, **{x.code: x for x in extra}})
    ui = kiosk.wsgi_app.extensions["kiosk_ui"]
    codes = (*languages.CODES, *(x.code for x in extra))
    kiosk.wsgi_app.extensions["kiosk_ui"] = dataclasses.replace(ui, languages=codes)
    page = c.page
    page.goto(c.base + "/language")
    c.screen("language-five")  # axe, weight and >= 48 px targets
    buttons = page.locator("button[name=lang]")
    assert buttons.count() == 5
    for i in range(5):
        box = buttons.nth(i).bounding_box()
        assert box is not None and box["height"] >= 64 and box["width"] >= 200
        assert box["y"] + box["height"] <= 480, f"button {i} below the 800x480 screen"
        code = codes[i]
        assert buttons.nth(i).get_attribute("lang") == code
        assert buttons.nth(i).inner_text() == languages.BY_CODE[code].native_name
    clips = [page.get_attribute("#prompt-audio", "src")]
    clips += [page.get_attribute(f"#lang-voice-{i}", "src") for i in range(1, 5)]
    assert all(src and "/speech/" in src for src in clips) and len(set(clips)) == 5
    chain = [page.get_attribute("#prompt-audio", "data-next")]
    chain += [page.get_attribute(f"#lang-voice-{i}", "data-next") for i in range(1, 5)]
    assert chain == ["lang-voice-1", "lang-voice-2", "lang-voice-3", "lang-voice-4", None]
    speech = kiosk.wsgi_app.extensions["kiosk_ui"].speech
    said = {text: voice for voice, text, _ in speech._known.values()}
    assert said["Mangga pilih basa. Basa Jawa."] == "id"  # Javanese: the Indonesian voice
    assert said["Choose your language. English."] == "en"
    assert said["Pilih bahasa. Bahasa Indonesia."] == "id"

"""Bench the touch UI per journey: screens, taps, words shown, seconds of speech, server time.

Walks four journeys the way a person does (first registration, status check, vouch after three
failed face checks, call for help) through Flask's test client over the real services of the UI
test kit (``tests/ui/ui_kit.py``: RegistrationService, StatusService, AgentService on a real
SQLite store in a temporary directory; instant face-verifier and agent-face doubles: the
camera's time is not the UI's). For each journey:

- screens: HTML screens shown; taps: touches the person makes (each keypad digit, stepper
  press, choice and button counts one);
- words: words of text in ``<main>`` on those screens (what there is to read);
- speech: seconds of the prompt each screen speaks on arrival, the length of the WAV espeak-ng
  makes for it through the kiosk's own speech cache (``kiosk.speech.espeak.Speech``);
- server: milliseconds the server spends on the journey's requests (p50 over ``--rounds``).

Targets: a full first registration <= 25 screens; the consent prompt <= 45 s of speech. Also
per-request p95 and page weight as before. Run:

    python bench/bench_ui.py [--rounds 10]
"""

from __future__ import annotations

import argparse
import html as htmllib
import io
import re
import sys
import tempfile
import time
import wave
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "ui")]

from agent_doubles import PIN, attach_agents  # noqa: E402
from ui_doubles import face  # noqa: E402
from ui_kit import GOOD_NIK, build_kit  # noqa: E402

from kiosk.config import parse_config  # noqa: E402
from kiosk.core.members import WG_DOMAINS  # noqa: E402
from kiosk.core.session import Outcome  # noqa: E402
from kiosk.speech.espeak import Speech  # noqa: E402

KK = "3510011501200003"
ASSET = re.compile(r'(?:href|src)="(/static/[^"]+)"')
PROMPT = re.compile(r'<audio id="prompt-audio"[^>]*src="/speech/([0-9a-f]+)\.wav"')
MAIN = re.compile(r"<main[^>]*>(.*?)</main>", re.S)
TAG = re.compile(r"<(script|style)[^>]*>.*?</\1>|<[^>]+>", re.S)
MAX_SCREENS = 25
MAX_CONSENT_SPEECH_S = 45.0


@dataclass
class Journey:
    """What one walk through the UI cost the person and the server."""

    name: str
    screens: int = 0
    taps: int = 0
    words: int = 0
    speech_s: float = 0.0
    server_ms: float = 0.0
    spoken: dict[str, float] = field(default_factory=dict)  # screen -> seconds of its prompt


class Walker:
    """A person at the kiosk: every GET of a screen is counted, every touch is a tap."""

    def __init__(self, client: Any, speech: Speech) -> None:
        self.client = client
        self.speech = speech
        self.csrf = ""
        self.j = Journey("")
        self.times: dict[str, list[float]] = defaultdict(list)
        self.weights: dict[str, int] = {}
        self._assets: dict[str, int] = {}
        self._wav_s: dict[str, float] = {}

    def start(self, name: str) -> Journey:
        self.j = Journey(name)
        return self.j

    def _timed(self, label: str, call: Callable[[], Any]) -> Any:
        t0 = time.perf_counter()
        resp = call()
        ms = (time.perf_counter() - t0) * 1000
        self.times[label].append(ms)
        self.j.server_ms += ms
        return resp

    def screen(self, name: str, url: str) -> str:
        """The person sees the screen at ``url`` (after a redirect or a link)."""
        resp = self._timed(f"GET {name}", lambda: self.client.get(url))
        while resp.status_code in (301, 302, 303):  # a redirect is not a screen: follow it
            url = resp.headers["Location"]
            resp = self._timed(f"GET {name}", lambda u=url: self.client.get(u))
        page = resp.get_data(as_text=True)
        m = re.search(r'name="csrf-token" content="([^"]+)"', page)
        if m:
            self.csrf = m.group(1)
        self.j.screens += 1
        main = MAIN.search(page)
        text = htmllib.unescape(TAG.sub(" ", main.group(1) if main else ""))
        self.j.words += len(text.split())
        spoken = PROMPT.search(page)
        if spoken:
            seconds = self._seconds(spoken.group(1))
            self.j.speech_s += seconds
            self.j.spoken[name] = self.j.spoken.get(name, 0.0) + seconds
        if resp.status_code in (200, 422):
            weight = len(resp.data) + sum(self._asset(a) for a in set(ASSET.findall(page)))
            self.weights[name] = max(weight, self.weights.get(name, 0))
        return page

    def tap(self, n: int = 1) -> None:
        """The person touches the screen ``n`` times (keys, choices) without leaving it."""
        self.j.taps += n

    def press(self, label: str, url: str, **data: Any) -> str:
        """One tap on a button that posts; returns where the kiosk sends the person."""
        self.j.taps += 1
        resp = self._timed(
            f"POST {label}", lambda: self.client.post(url, data={"csrf_token": self.csrf, **data})
        )
        return resp.headers.get("Location", "") if resp.status_code in (301, 302, 303) else ""

    def _seconds(self, key: str) -> float:
        if key not in self._wav_s:
            audio = self.speech.wav(key)
            if audio is None:
                self._wav_s[key] = 0.0
            else:
                self._wav_s[key] = wav_seconds(audio)
        return self._wav_s[key]

    def _asset(self, url: str) -> int:
        if url not in self._assets:
            self._assets[url] = len(self.client.get(url).data)
        return self._assets[url]


def wav_seconds(audio: bytes) -> float:
    """Length of a WAV in seconds, from its data chunk (espeak-ng's ``--stdout`` header gives
    no frame count: it streams, so the size is read from the bytes themselves)."""
    with wave.open(io.BytesIO(audio)) as w:
        rate, width, channels = w.getframerate(), w.getsampwidth(), w.getnchannels()
    start = audio.find(b"data")
    payload = len(audio) - (start + 8 if start >= 0 else 44)
    return payload / float(rate * width * channels)


def _begin(w: Walker, action: str) -> None:
    w.screen("attract", "/")
    w.tap()  # the whole attract screen is one button
    w.screen("language", "/language")
    w.screen("menu", w.press("language", "/language", lang="id"))
    w.press(action.strip("/"), action)


def _nik(w: Walker, screen_url: str, post_url: str, name: str) -> str:
    w.screen(name, screen_url)
    w.tap(len(GOOD_NIK))
    return w.press(name, post_url, nik=GOOD_NIK)


def _answer(q: Any) -> tuple[str, int]:
    """A valid answer to one question and the taps it takes."""
    if q.id == "dusun":  # typed here: the bench kit's village has no dusun list
        return "Krajan", len("Krajan")
    if q.kind == "text":
        return KK, len(KK)
    if q.kind == "integer":
        return ("0", 1) if q.part_of else (str(max(q.min or 0, 1)), 1)
    if q.kind == "multi":
        return q.choices()[-1].code, 1
    return (q.choices()[0].code if q.kind != "yesno" else "no"), 1


HEAD = {"name": "Siti Aminah", "nik": "", "relation": "head", "sex": "F", "age": "45"}
HEAD |= {"school": "left", "work": "farmer", "chronic": "no"}
WG_NONE = {f"wg_{d}": "none" for d in WG_DOMAINS}


def _member(w: Walker, path: str) -> str:
    """Enter the head of household on the two member screens; returns the list screen's URL.

    Taps: each letter of the name, the age's digits, two per drop-down (open, choose), one per
    choice; then the six Washington Group rows and the pregnancy pair."""
    w.tap(len(HEAD["name"]) + len(HEAD["age"]) + 3 * 2 + 2)
    url = w.press("member", path, action="next", **HEAD)
    assert url.endswith("/health"), url
    w.screen("member health", url)
    w.tap(len(WG_NONE) + 1)
    url = w.press("member health", url, **WG_NONE, pregnant="no")
    assert url, "the member was refused"
    return url


def _questionnaire(w: Walker, form: Any, url: str) -> str:
    """Answer every screen: each question on it (a grouped screen has several) costs its taps."""
    while not url.endswith("/consent"):
        page = w.screen("household", url)
        member = re.search(r'action="(/household/\d+/member)"', page)
        if member:  # the member list opens on its first member
            url = _member(w, member.group(1))
            continue
        if 'id="members-label"' in page:  # the list with its members: Next
            action = re.search(r'action="/household/(\d+)"', page)
            assert action is not None
            url = w.press("household", f"/household/{action.group(1)}", action="next")
            assert url, "the member list was refused"
            continue
        asked = [q for q in form.questions() if f'name="{q.id}"' in page]
        action = re.search(r'action="/household/(\d+)"', page)
        assert asked and action is not None, page[:300]
        answers = {}
        for q in asked:
            answers[q.id], taps = _answer(q)
            w.tap(taps)
        url = w.press("household", f"/household/{action.group(1)}", action="next", **answers)
        assert url, f"{answers} refused"
    return url


def first_registration(w: Walker, kit: Any, form: Any) -> Journey:
    """Attract to receipt, answering every question, then "Done"."""
    j = w.start("first registration")
    _begin(w, "/register")
    w.screen("face", _nik(w, "/identify", "/identify", "identify"))
    w.screen("result", w.press("face", "/face"))
    w.tap()  # "Next" on the result screen is a link
    url = _questionnaire(w, form, "/household")
    w.screen("consent", url)
    w.screen("review", w.press("consent", "/consent", decision="agree"))
    sent = w.press("review (send)", "/review", action="send")
    assert sent.endswith("/receipt"), f"send went to {sent!r}"
    w.screen("receipt", sent)
    w.press("finish", "/finish")
    return j


def status_check(w: Walker, kit: Any, receipt: str) -> Journey:
    """Menu to the status in words by NIK + receipt code, for a resident registered before."""
    j = w.start("status check")
    _begin(w, "/status")
    after_nik = _nik(w, "/status/nik", "/status/nik", "status NIK")
    assert after_nik.endswith("/status/code"), f"the NIK led to {after_nik!r}, not the code"
    w.screen("status code", after_nik)  # the receipt code, never the face
    code = "".join(ch for ch in receipt if ch.isdigit())
    w.tap(len(code))
    shown = w.press("status code", "/status/code", code=code)
    assert shown.endswith("/status/result"), "the receipt code did not open the status"
    w.screen("status result", shown)
    w.press("finish", "/finish")
    return j


def vouch(w: Walker, kit: Any) -> Journey:
    """Three failed face checks, an agent logs in on the same screen and vouches."""
    j = w.start("vouch")
    _begin(w, "/register")
    url = _nik(w, "/identify", "/identify", "identify")
    kit.verifier.script(face(Outcome.RETRY), face(Outcome.RETRY), face(Outcome.RETRY))
    for attempt in range(3):
        w.screen("face", url)
        w.screen("result", w.press("face", "/face"))
        if attempt < 2:
            url = w.press("retry", "/result/retry")
    w.screen("help", "/help")  # "call an agent" (a post in the kiosk; same screen)
    w.tap()
    w.screen("agent login", "/agent/login")
    w.tap(1 + len(PIN))  # choose yourself, the PIN on the keypad
    w.screen("agent face", w.press("agent login", "/agent/login", agent_id="AG-PKH-01", pin=PIN))
    w.screen("agent home", w.press("agent face", "/agent/face"))
    w.tap()
    w.screen("vouch", "/agent/vouch")
    w.tap()  # the reason
    w.screen("household", w.press("vouch", "/agent/vouch", reason="elderly"))
    w.press("logout", "/agent/logout")
    w.press("finish", "/finish")
    return j


def help_call(w: Walker, kit: Any) -> Journey:
    """From the menu, "call an agent", read what happens, go back."""
    j = w.start("help")
    w.screen("attract", "/")
    w.tap()
    w.screen("language", "/language")
    w.screen("menu", w.press("language", "/language", lang="id"))
    w.press("help", "/help", back="/menu")
    w.screen("help", "/help?back=/menu")
    w.tap()
    w.screen("menu", "/menu")
    return j


def _registered(kit: Any) -> str:
    """A registration the status check can find (made through the service)."""
    token = kit.registration.start()
    kit.registration.identify(token, GOOD_NIK)
    kit.registration.check_face(token)
    kit.registration.household(token, {})
    kit.registration.consent(token, True)
    receipt = str(kit.registration.submit(token))
    kit.registration.end(token, "finished")
    return receipt


def pct(values: list[float], q: float) -> float:
    """The q-quantile (0..1) of ``values``."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def run(rounds: int) -> tuple[list[Journey], list[list[Journey]], Walker]:
    """One measured pass per journey plus ``rounds`` timing passes, each on a fresh kiosk."""
    from kiosk.core.forms import load_form

    form = load_form()
    passes: list[list[Journey]] = []
    with tempfile.TemporaryDirectory() as tmp:
        speech = Speech(Path(tmp) / "speech-cache")
        walker: Walker | None = None
        for n in range(rounds + 1):
            data = Path(tmp) / f"round{n}"
            data.mkdir()
            cfg = parse_config(
                {
                    "paths": {"data_dir": str(data)},
                    "ui": {"speech": True},
                    "uplink": {"enabled": False},
                }
            )
            kit = build_kit(cfg, data, speech=speech)
            attach_agents(kit, data)
            client = kit.app.test_client()
            if walker is None:
                walker = Walker(client, speech)
            walker.client, walker.csrf = client, ""
            journeys = [first_registration(walker, kit, form)]
            receipt = _registered(kit)
            journeys += [
                status_check(walker, kit, receipt),
                vouch(walker, kit),
                help_call(walker, kit),
            ]
            passes.append(journeys)
            if n == 0:
                walker.times.clear()  # the first pass warms templates and the speech cache
    assert walker is not None
    return passes[0], passes[1:] or passes, walker


def main(argv: list[str] | None = None) -> int:
    """Run the journeys and print the tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10, help="timed passes of every journey")
    args = parser.parse_args(argv)
    first, timed, w = run(args.rounds)
    print(f"# bench_ui: {args.rounds} timed passes, Python {sys.version.split()[0]}")
    print("\n| journey | screens | taps | words shown | speech s | server ms (p50) |")
    print("|---|---:|---:|---:|---:|---:|")
    for i, j in enumerate(first):
        server = pct([p[i].server_ms for p in timed], 0.5)
        print(
            f"| {j.name} | {j.screens} | {j.taps} | {j.words} | {j.speech_s:.1f} | {server:.0f} |"
        )
    consent = first[0].spoken.get("consent", 0.0)
    registration_screens = first[0].screens
    print("\n| screen (first registration) | speech s |\n|---|---:|")
    for name, seconds in sorted(first[0].spoken.items(), key=lambda kv: -kv[1])[:6]:
        print(f"| {name} | {seconds:.1f} |")
    print("\n| slowest requests | n | p50 ms | p95 ms |\n|---|---:|---:|---:|")
    for name, vs in sorted(w.times.items(), key=lambda kv: -pct(kv[1], 0.95))[:6]:
        print(f"| {name} | {len(vs)} | {pct(vs, 0.5):.1f} | {pct(vs, 0.95):.1f} |")
    every = [v for vs in w.times.values() for v in vs]
    print(f"\nall requests: p50 {pct(every, 0.5):.1f} ms, p95 {pct(every, 0.95):.1f} ms")
    worst = max(pct(vs, 0.95) for vs in w.times.values())
    heaviest = max(w.weights.values()) / 1024
    print(f"worst per-request p95: {worst:.1f} ms (target <= 50)")
    print(f"heaviest screen: {heaviest:.1f} KB (target <= 250)")
    print(f"first registration: {registration_screens} screens (target <= {MAX_SCREENS})")
    print(f"consent speech: {consent:.1f} s (target <= {MAX_CONSENT_SPEECH_S:.0f})")
    ok = (
        worst <= 50
        and heaviest <= 250
        and registration_screens <= MAX_SCREENS
        and consent <= MAX_CONSENT_SPEECH_S
    )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())

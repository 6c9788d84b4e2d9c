"""Bench the touch UI: server time per screen transition and page weight per screen.

Drives the whole villager flow (attract -> ... -> receipt, then a status check) through Flask's
test client over the real RegistrationService/StatusService on a real SQLite store in a
temporary directory, with an instant face-verifier double (the camera's time is not the UI's).
Reports p50/p95/max server milliseconds per request and the weight of every screen (HTML plus
the CSS, JS and pictograms it references; spoken audio excluded). Run:

    python bench/bench_ui.py [--rounds 30]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "ui")]

from ui_doubles import JsonSealer, ScriptedVerifier  # noqa: E402

from kiosk.config import parse_config  # noqa: E402
from kiosk.core.clock import FakeClock  # noqa: E402
from kiosk.core.forms import load_consent, load_form  # noqa: E402
from kiosk.core.nik import parse_nik  # noqa: E402
from kiosk.core.session import Timeouts  # noqa: E402
from kiosk.crypto.atrest import AtRestCipher  # noqa: E402
from kiosk.services.registration import DeviceInfo, FormInfo, RegistrationService  # noqa: E402
from kiosk.services.status import StatusService  # noqa: E402
from kiosk.store.db import connect  # noqa: E402
from kiosk.store.registrations import RegistrationRepository  # noqa: E402
from ui import create_app  # noqa: E402

NIK = "3510014501900001"
ASSET = re.compile(r'(?:href|src)="(/static/[^"]+)"')


def build(tmp: Path) -> Any:
    """The UI over real services with an instant verifier."""
    cfg = parse_config({"paths": {"data_dir": str(tmp)}, "ui": {"speech": False}})
    clock = FakeClock()
    timeouts = Timeouts(60, 30)
    repo = RegistrationRepository(connect(tmp / "kiosk.sqlite3"))
    verifier = ScriptedVerifier()
    key = os.urandom(32)
    form, consent = load_form(), load_consent()

    def nik_parser(text: str) -> Any:
        return parse_nik(text, dt.date(2026, 11, 29))

    registration = RegistrationService(
        clock=clock,
        timeouts=timeouts,
        retry_budget=3,
        nik_parser=nik_parser,
        verifier=verifier,
        sealer=JsonSealer(),
        repo=repo,
        cipher=AtRestCipher(os.urandom(32)),
        lookup_key=key,
        device=DeviceInfo("kiosk-bench-01", cfg.device.village_code, "bench", "boot"),
        form=FormInfo(form.form_id, str(form.version), consent.version),
    )
    status = StatusService(
        clock=clock,
        timeouts=timeouts,
        nik_parser=nik_parser,
        verifier=verifier,
        repo=repo,
        lookup_key=key,
    )
    return create_app(registration=registration, cfg=cfg, status=status), form


class Timer:
    """Times every request by screen name."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.times: dict[str, list[float]] = defaultdict(list)
        self.weights: dict[str, int] = {}
        self.csrf = ""
        self._assets: dict[str, int] = {}

    def get(self, name: str, url: str) -> str:
        t0 = time.perf_counter()
        resp = self.client.get(url)
        self.times[f"GET {name}"].append((time.perf_counter() - t0) * 1000)
        html = resp.get_data(as_text=True)
        m = re.search(r'name="csrf-token" content="([^"]+)"', html)
        if m:
            self.csrf = m.group(1)
        if resp.status_code == 200:
            weight = len(resp.data) + sum(self._asset(a) for a in set(ASSET.findall(html)))
            self.weights[name] = max(weight, self.weights.get(name, 0))
        return html

    def post(self, name: str, url: str, **data: Any) -> Any:
        t0 = time.perf_counter()
        resp = self.client.post(url, data={"csrf_token": self.csrf, **data})
        self.times[f"POST {name}"].append((time.perf_counter() - t0) * 1000)
        return resp

    def _asset(self, url: str) -> int:
        if url not in self._assets:
            self._assets[url] = len(self.client.get(url).data)
        return self._assets[url]


def one_round(t: Timer, form: Any) -> None:
    """The whole flow once, then a status check."""
    t.get("attract", "/")
    t.get("language", "/language")
    t.post("language", "/language", lang="id")
    t.get("menu", "/menu")
    t.post("register", "/register")
    t.get("identify", "/identify")
    t.post("identify (bad NIK)", "/identify", nik="35100145019")
    t.post("identify", "/identify", nik=NIK)
    t.get("face", "/face")
    t.post("face", "/face")
    t.get("result", "/result")
    url = "/household"
    while True:
        html = t.get("household", url)
        q = next(q for q in form.questions() if f'name="{q.id}"' in html)
        page = re.search(r'action="/household/(\d+)"', html)
        assert page is not None
        value = {"integer": str(max(q.min or 0, 1)), "yesno": "no", "text": "3510011501200003"}.get(
            q.kind, q.choices()[0].code if q.choices() else ""
        )
        resp = t.post("household", f"/household/{page.group(1)}", action="next", **{q.id: value})
        url = resp.headers["Location"]
        if url.endswith("/consent"):
            break
    t.get("consent", "/consent")
    t.post("consent", "/consent", decision="agree")
    t.get("review", "/review")
    t.post("review (send)", "/review", action="send")
    t.get("receipt", "/receipt")
    t.get("receipt QR", "/receipt/qr.svg")
    t.post("finish", "/finish")
    t.post("status", "/status")
    t.get("status NIK", "/status/nik")
    t.post("status NIK", "/status/nik", nik=NIK)
    t.post("status face", "/status/face")
    t.get("status result", "/status/result")
    t.post("finish", "/finish")
    t.get("api/session", "/api/session")


def pct(values: list[float], q: float) -> float:
    """The q-quantile (0..1) of ``values``."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main(argv: list[str] | None = None) -> int:
    """Run the bench and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=30, help="full flows to run")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        app, form = build(Path(tmp))
        timer = Timer(app.test_client())
        one_round(timer, form)  # warm-up: template compilation, first imports
        timer.times.clear()
        for _ in range(args.rounds):
            one_round(timer, form)
    every = [v for vs in timer.times.values() for v in vs]
    print(
        f"# bench_ui: {args.rounds} rounds, {len(every)} requests, Python {sys.version.split()[0]}"
    )
    p50, p95 = pct(every, 0.5), pct(every, 0.95)
    print(f"all requests: p50 {p50:.1f} ms, p95 {p95:.1f} ms, max {max(every):.1f} ms")
    print("\n| request | n | p50 ms | p95 ms | max ms |\n|---|---:|---:|---:|---:|")
    for name, vs in sorted(timer.times.items(), key=lambda kv: -pct(kv[1], 0.95)):
        print(f"| {name} | {len(vs)} | {pct(vs, 0.5):.1f} | {pct(vs, 0.95):.1f} | {max(vs):.1f} |")
    print("\n| screen | heaviest KB (HTML + CSS + JS + icons) |\n|---|---:|")
    for name, size in sorted(timer.weights.items(), key=lambda kv: -kv[1]):
        print(f"| {name} | {size / 1024:.1f} |")
    worst = max(pct(vs, 0.95) for vs in timer.times.values())
    heaviest = max(timer.weights.values()) / 1024
    print(f"\nworst per-request p95: {worst:.1f} ms (target <= 50)")
    print(f"heaviest screen: {heaviest:.1f} KB (target <= 250)")
    return 0 if worst <= 50 and heaviest <= 250 else 1


if __name__ == "__main__":
    raise SystemExit(main())

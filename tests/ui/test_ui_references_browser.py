"""Identity references in the browser: the real verifier, the demo village and the replay
camera behind the villager screens; a verified match, a mismatch and a pending capture."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from browser import Server

from kiosk.app import build_ui
from kiosk.config import REPO_ROOT, KioskConfig, parse_config
from kiosk.core.clock import FakeClock
from kiosk.core.policy import DecisionPolicy
from kiosk.crypto.atrest import AtRestCipher
from kiosk.crypto.fake import JsonSealer
from kiosk.references.demo import DemoVillage, ensure_demo_references
from kiosk.references.store import ReferenceStore
from kiosk.store.db import connect
from kiosk.vision.camera.replay import SteppedReplayCamera
from kiosk.vision.capture import CaptureSettings
from kiosk.vision.models import ModelPack
from kiosk.vision.pipeline import FacePipeline
from kiosk.vision.verifier import CameraFaceVerifier, FaceTimeouts
from tests.fixtures.app import compose

pytestmark = [pytest.mark.browser, pytest.mark.slow]

TODAY = dt.date(2026, 11, 29)

SHARED = REPO_ROOT.parent / "shared"
FACES = SHARED / "faces" / "identities"


# Replayed photos cannot blink: as in the demo, challenges only below liveness_live.
REPLAY_SETTINGS = CaptureSettings(capture_s=5.0, challenge_s=2.0, passive_only=0.8)


@dataclass
class Rig:
    """A served kiosk UI with the real face path."""

    base: str
    village: DemoVillage
    sealer: JsonSealer


@pytest.fixture(scope="module")
def pipeline() -> FacePipeline:
    if not (SHARED / "models" / "SHA256SUMS").is_file():
        pytest.fail("model pack missing beside the checkout")
    return FacePipeline(ModelPack.load(SHARED / "models"))


@dataclass
class Demo:
    """The demo village, built once per module (about 9 s)."""

    cfg: KioskConfig
    clock: FakeClock
    cipher: AtRestCipher
    store: ReferenceStore
    village: DemoVillage


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory, pipeline: FacePipeline) -> Demo:
    root = tmp_path_factory.mktemp("demo-village")
    cfg = parse_config(
        {"paths": {"data_dir": str(root)}, "camera": {"backend": "replay"}, "ui": {"speech": False}}
    )
    clock = FakeClock()
    cipher = AtRestCipher(os.urandom(32))
    store = ReferenceStore(connect(root / "kiosk.sqlite3"), cipher, clock)
    village = ensure_demo_references(cfg, store, pipeline)
    assert village is not None
    return Demo(cfg, clock, cipher, store, village)


@pytest.fixture
def rig(demo: Demo, tmp_path: Path, pipeline: FacePipeline) -> Iterator[Rig]:
    cfg, clock, cipher, store, village = (
        demo.cfg,
        demo.clock,
        demo.cipher,
        demo.store,
        demo.village,
    )
    conn = connect(tmp_path / "kiosk.sqlite3")
    camera = SteppedReplayCamera(FACES, clock=clock)
    verifier = CameraFaceVerifier(
        camera,
        pipeline,
        store,
        DecisionPolicy(),
        clock=clock,
        timeouts=FaceTimeouts(REPLAY_SETTINGS),
        on_claim=village.on_claim_for(camera),
        sleep=clock.advance,
    )
    sealer = JsonSealer()
    graph = compose(
        cfg, conn, clock, verifier=verifier, sealer=sealer, cipher=cipher, objections=False
    )
    services = graph.services
    app = build_ui(cfg, services, live=verifier)
    server = Server(app)
    try:
        yield Rig(server.base, village, sealer)
    finally:
        server.close()


def _claim(page: Any, base: str, nik: str) -> str:
    """From the attract screen to the result screen for ``nik`` (in Bahasa Indonesia, the
    kiosk's first language); returns the result title."""
    page.goto(base + "/")
    page.click(".attract-button")
    page.click("button[value=id]")
    page.click("form[action='/register'] button")
    page.click("[data-key=clear]")
    for d in nik:
        page.click(f".keypad [data-key='{d}']")
    page.click("#nik-form button[type=submit]")
    page.wait_for_url("**/face")
    page.click(".capture-form button[type=submit]")
    page.wait_for_url("**/result", timeout=60_000)
    return str(page.inner_text(".message h1"))


@pytest.mark.parametrize(
    ("expect", "title", "next_step"),
    [
        ("verified", "Wajah Anda cocok dengan NIK", "a[href='/household']"),
        ("pending", "Wajah Anda sudah direkam", "a[href='/household']"),
        ("retry", "Wajah tidak cocok dengan NIK", "form[action='/result/retry'] button"),
    ],
)
def test_reference_outcomes_in_the_browser(
    rig: Rig, chromium: Any, expect: str, title: str, next_step: str
) -> None:
    nik = next(p.nik for p in rig.village.people if p.expect == expect)
    context = chromium.new_context(viewport={"width": 800, "height": 480}, has_touch=True)
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        assert _claim(page, rig.base, nik) == title
        assert page.locator(next_step).is_visible()
        shots = REPO_ROOT / "artifacts" / "screenshots"
        shots.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(shots / f"references-{expect}-800x480.png"))
    finally:
        context.close()

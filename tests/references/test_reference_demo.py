"""The demo village from ../shared/faces: installed once, and the camera plays the claimant."""

from __future__ import annotations

import datetime as dt
import json
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from ref_helpers import entries

from kiosk.config import REPO_ROOT, KioskConfig, parse_config
from kiosk.core.clock import FakeClock
from kiosk.core.nik import parse_nik
from kiosk.core.policy import DecisionPolicy
from kiosk.core.session import Outcome
from kiosk.crypto.atrest import AtRestCipher
from kiosk.references.demo import (
    DEMO_KEY,
    DEMO_MAP,
    DemoVillage,
    demo_nik,
    ensure_demo_references,
)
from kiosk.references.message import ReferenceSet
from kiosk.references.store import ReferenceStore
from kiosk.store.db import connect
from kiosk.vision.camera.replay import SteppedReplayCamera
from kiosk.vision.capture import CaptureSettings
from kiosk.vision.pipeline import FacePipeline
from kiosk.vision.verifier import CameraFaceVerifier, FaceTimeouts

SHARED = REPO_ROOT.parent / "shared"
FACES = SHARED / "faces" / "identities"


class Demo:
    """One demo data directory, built once for the module."""

    def __init__(self, root: Path, pipeline: FacePipeline) -> None:
        self.clock = FakeClock(1_790_000_000.0)
        self.cfg: KioskConfig = parse_config(
            {"paths": {"data_dir": str(root)}, "camera": {"backend": "replay"}}
        )
        self.conn = connect(root / "kiosk.sqlite3")
        self.store = ReferenceStore(self.conn, AtRestCipher(b"d" * 32), self.clock)
        village = ensure_demo_references(self.cfg, self.store, pipeline)
        assert village is not None
        self.village: DemoVillage = village


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory, pipeline: FacePipeline) -> Iterator[Demo]:
    d = Demo(tmp_path_factory.mktemp("demo"), pipeline)
    yield d
    d.conn.close()


def _by_expect(demo: Demo, expect: str) -> list[str]:
    return [p.nik for p in demo.village.people if p.expect == expect]


def test_demo_set_is_installed_with_valid_niks(demo: Demo) -> None:
    info = demo.store.info(demo.cfg.device.village_code)
    assert info is not None and info.state == "active" and info.entries == 10
    people = demo.village.people
    assert len(people) == 11 and len({p.nik for p in people}) == 11
    for person in people:
        parsed = parse_nik(person.nik, today=dt.date(2026, 1, 1))
        assert person.nik.startswith("351001")
        assert parsed is not None
        found = demo.store.lookup(person.nik)
        assert (found is None) == (person.enrolled is None)
    assert {"verified", "retry", "pending"} <= {p.expect for p in people}


def test_demo_key_and_map_stay_in_the_data_dir(demo: Demo) -> None:
    key = Path(demo.cfg.paths.data_dir) / "keys" / DEMO_KEY
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    rows = json.loads((Path(demo.cfg.paths.data_dir) / DEMO_MAP).read_text())
    assert [r["nik"] for r in rows] == [p.nik for p in demo.village.people]


def test_second_call_is_idempotent(demo: Demo, pipeline: FacePipeline) -> None:
    again = ensure_demo_references(demo.cfg, demo.store, pipeline)
    assert again == demo.village
    info = demo.store.info()
    assert info is not None and info.set_version == 1


def test_a_real_portal_set_is_never_replaced(tmp_path: Path, pipeline: FacePipeline) -> None:
    clock = FakeClock()
    cfg = parse_config({"paths": {"data_dir": str(tmp_path)}})
    store = ReferenceStore(connect(tmp_path / "k.sqlite3"), AtRestCipher(b"p" * 32), clock)
    store.replace(
        ReferenceSet(
            cfg.device.village_code,
            4,
            clock.now(),
            clock.now() + 999,
            "portal-kid",
            tuple(entries()),
        )
    )
    assert ensure_demo_references(cfg, store, pipeline) is None
    info = store.info()
    assert info is not None and (info.set_version, info.portal_kid) == (4, "portal-kid")


def test_no_faces_no_demo(tmp_path: Path, pipeline: FacePipeline) -> None:
    cfg = parse_config({"paths": {"data_dir": str(tmp_path)}})
    store = ReferenceStore(connect(tmp_path / "k.sqlite3"), AtRestCipher(b"p" * 32), FakeClock())
    assert ensure_demo_references(cfg, store, pipeline, faces_dir=tmp_path / "none") is None
    assert store.info() is None


def test_demo_nik_rules() -> None:
    assert demo_nik("351001", "150385", 1) == "3510011503850001"
    with pytest.raises(ValueError):
        demo_nik("351001", "150385", 0)
    with pytest.raises(ValueError):
        demo_nik("3510", "150385", 1)


class PlayingCamera:
    """Records what the demo asks the camera to play."""

    def __init__(self) -> None:
        self.played: list[list[Path]] = []

    def play(self, paths: list[Path]) -> None:
        """Remember the playlist."""
        self.played.append(paths)


def test_on_claim_points_the_camera_at_the_claimant(demo: Demo) -> None:
    cam = PlayingCamera()
    claim = demo.village.on_claim_for(cam)
    person = demo.village.people[4]
    claim(person.nik)
    assert cam.played[-1] == [Path(p) for p in person.replay]
    pending = next(p for p in demo.village.people if p.enrolled is None)
    claim("3510019999990001")  # not a demo NIK: someone not enrolled
    assert cam.played[-1] == [Path(p) for p in pending.replay]
    demo.village.on_claim_for(object())(person.nik)  # a real camera: nothing happens


# Replayed photos cannot blink: as in the demo, challenges only below liveness_live.
REPLAY_SETTINGS = CaptureSettings(capture_s=5.0, challenge_s=2.0, passive_only=0.8)


@pytest.mark.parametrize(
    ("expect", "outcome", "source"),
    [
        ("verified", Outcome.VERIFIED, "village_set"),
        ("retry", Outcome.RETRY, "village_set"),
        ("pending", Outcome.PENDING, "none"),
    ],
)
def test_demo_end_to_end(
    demo: Demo, pipeline: FacePipeline, expect: str, outcome: Outcome, source: str
) -> None:
    camera = SteppedReplayCamera(FACES, clock=demo.clock)
    verifier = CameraFaceVerifier(
        camera,
        pipeline,
        demo.store,
        DecisionPolicy(),
        clock=demo.clock,
        timeouts=FaceTimeouts(REPLAY_SETTINGS),
        on_claim=demo.village.on_claim_for(camera),
        sleep=demo.clock.advance,
    )
    nik = _by_expect(demo, expect)[-1]
    result = verifier.check(nik)
    assert (result.outcome, result.reference_source) == (outcome, source)
    assert result.liveness_band == "live"

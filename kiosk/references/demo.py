"""The demo village: a reference set built from ``../shared/faces`` and a camera that plays along.

At the first ``kiosk run`` in demo mode, :func:`ensure_demo_references` enrols one photo per
person of the shared test faces under a fictitious NIK of the kiosk's district, signs the set
with a demo portal key generated into ``<data_dir>/keys`` (never committed, never trusted for
MQTT), and installs it through the same validation path as a real portal set. Other photos of
the same people are what the replay camera shows when someone claims that NIK
(:meth:`DemoVillage.on_claim_for`), so the demo shows a real match, a real mismatch (a NIK
registered to p01 claimed by p02), a pending case (a NIK with no reference) and, for people
whose press photos fail passive liveness, an honest rejection.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from kiosk.config import KioskConfig
from kiosk.core.biometrics import LivenessBand, match_band
from kiosk.core.policy import policy_from_rows
from kiosk.crypto.keys import key_id, load_pem_key, write_private_key
from kiosk.crypto.signed import sign_message
from kiosk.errors import ImageError, KioskError
from kiosk.references.message import (
    ReferenceEntry,
    parse_reference_set,
    reference_set_body,
)
from kiosk.references.store import ReferenceStore
from kiosk.vision.camera import DEMO_FACES
from kiosk.vision.camera.replay import fit_frame
from kiosk.vision.embedder import cosine, template_to_bytes
from kiosk.vision.images import load_image
from kiosk.vision.pipeline import FacePipeline

log = logging.getLogger(__name__)

DEMO_KEY = "demo_portal_ed25519.pem"
"""Demo portal signing key under ``<data_dir>/keys`` (generated, 0600, never committed)."""

DEMO_MAP = "demo_village.json"
"""Under ``<data_dir>``: which photos the replay camera shows for each demo NIK."""

DEMO_TTL_S = 365 * 86400.0
"""Validity of the demo set, seconds."""

FRAME = (640, 480)

# (person folder, day-month-year of birth in NIK form (women: day + 40), initials)
RESIDENTS: tuple[tuple[str, str, str], ...] = (
    ("p01", "150385", "B.S."),
    ("p02", "520890", "S.R."),
    ("p03", "070775", "A.W."),
    ("p04", "610488", "D.L."),
    ("p05", "030270", "H.P."),
    ("p06", "451192", "N.K."),
    ("p07", "280965", "J.T."),
    ("p08", "590682", "R.M."),
    ("p09", "101295", "E.H."),
)
MISMATCH = ("p01", "p02", "250180", "B.S.")
"""A NIK whose reference is p01's face, claimed in front of the camera by p02."""
PENDING = ("p03", "660778")
"""A NIK with no reference anywhere (a newcomer); the camera shows p03."""


@dataclass(frozen=True)
class DemoPerson:
    """One demo NIK: whose face is enrolled, what the camera shows, what should happen."""

    nik: str
    label: str
    enrolled: str | None  # photo enrolled as the reference, None = no reference
    replay: tuple[str, ...]  # photos the camera plays when this NIK is claimed
    expect: str  # verified | pending | retry | rejected (from the default policy)


class _Camera(Protocol):
    def play(self, paths: list[Path]) -> None:
        """Show these files from now on."""
        ...


@dataclass(frozen=True)
class DemoVillage:
    """The demo people and the hook that points the replay camera at the claimed person."""

    people: tuple[DemoPerson, ...]

    def person(self, nik: str) -> DemoPerson | None:
        """The demo person for ``nik``, or None."""
        return next((p for p in self.people if p.nik == nik), None)

    def on_claim_for(self, camera: Any) -> Callable[[str], None]:
        """``on_claim`` for :class:`~kiosk.vision.verifier.CameraFaceVerifier`: play the claimant.

        A NIK that is not a demo NIK shows the pending demo person (someone not enrolled).
        Does nothing for a camera without ``play`` (a real camera).
        """
        fallback = next((p for p in self.people if p.enrolled is None), None)

        def claim(nik: str) -> None:
            play = getattr(camera, "play", None)
            person = self.person(nik) or fallback
            if play is not None and person is not None and person.replay:
                play([Path(p) for p in person.replay])

        return claim


def demo_nik(district6: str, dob: str, serial: int) -> str:
    """A structurally valid NIK: district code, birth date (DDMMYY), 4-digit serial."""
    nik = f"{district6}{dob}{serial:04d}"
    if len(nik) != 16 or not nik.isdigit() or serial == 0:
        raise ValueError("demo NIK must be 16 digits with a non-zero serial")
    return nik


def _load_or_create_key(path: Path) -> Ed25519PrivateKey:
    if path.is_file():
        loaded: Ed25519PrivateKey = load_pem_key(path, "demo portal key", Ed25519PrivateKey)
        return loaded
    key = Ed25519PrivateKey.generate()
    write_private_key(path, key)
    return key


@dataclass
class _Shot:
    path: Path
    embedding: np.ndarray
    live: LivenessBand
    ok: bool


def _analyse(pipeline: FacePipeline, folder: Path) -> list[_Shot]:
    shots = []
    for path in sorted(folder.glob("*.jpg")):
        try:
            frame = fit_frame(load_image(path, fit=FRAME), *FRAME)
            analysis = pipeline.analyze(frame)
            if not analysis.usable:
                continue
            live = pipeline.passive_liveness(analysis).band  # the kiosk's own rule
            shots.append(_Shot(path, pipeline.embed_analysis(analysis), live, analysis.ok))
        except (ImageError, KioskError) as err:
            log.warning("demo photo %s skipped: %s", path.name, err)
    return shots


def _split(shots: list[_Shot]) -> tuple[_Shot, list[_Shot]]:
    """Enrol the photo that best matches the live-passing ones; the camera replays those."""
    live = [s for s in shots if s.live is LivenessBand.LIVE and s.ok]
    if not live:  # press photos that fail passive liveness: the demo shows a rejection
        return shots[0], shots[1:] or shots
    if len(live) == 1 and len(shots) == 1:
        return live[0], live
    candidates = [s for s in shots if s not in live] or live

    def fit(c: _Shot) -> float:
        others = [r for r in live if r is not c]
        return min(cosine(c.embedding, r.embedding) for r in others) if others else -1.0

    enrolled = max(candidates, key=fit)
    return enrolled, [r for r in live if r is not enrolled] or live


def _expect(
    pipeline: FacePipeline, cfg: KioskConfig, enrolled: _Shot | None, replay: list[_Shot]
) -> str:
    """Outcome the default flow should reach with the best replayed photo."""
    t = cfg.biometrics
    policy = policy_from_rows(cfg.biometrics.policy)
    shot = replay[0]
    live = shot.live.value
    if enrolled is None:
        return policy.decide("none", None, live)[0].value
    band = match_band(
        cosine(shot.embedding, enrolled.embedding), t.match_high, t.match_medium, t.match_low
    )
    return policy.decide("village_set", band.value, live)[0].value


def build_demo_people(
    cfg: KioskConfig, pipeline: FacePipeline, faces_dir: Path = DEMO_FACES
) -> tuple[list[DemoPerson], list[ReferenceEntry]]:
    """The demo people and the reference entries to enrol (one photo per person)."""
    district = cfg.device.village_code[:6]
    village = cfg.device.village_code
    analysed = {name: _analyse(pipeline, faces_dir / name) for name, _, _ in RESIDENTS}
    people: list[DemoPerson] = []
    entries: list[ReferenceEntry] = []

    def add(
        serial: int,
        dob: str,
        label: str,
        replay: list[_Shot],
        enrolled: _Shot | None,
        initials: str = "",
    ) -> None:
        """One demo person replaying ``replay``; with ``enrolled``, also their reference entry."""
        nik = demo_nik(district, dob, serial)
        if enrolled is not None:
            template = template_to_bytes(enrolled.embedding)
            entries.append(ReferenceEntry(nik, f"{village}{serial:06d}", initials, template))
        people.append(
            DemoPerson(
                nik,
                label,
                None if enrolled is None else str(enrolled.path),
                tuple(str(s.path) for s in replay),
                _expect(pipeline, cfg, enrolled, replay),
            )
        )

    for serial, (name, dob, initials) in enumerate(RESIDENTS, start=1):
        shots = analysed[name]
        if not shots:
            log.warning("demo person %s has no usable photo; left out", name)
            continue
        enrolled, replay = _split(shots)
        add(serial, dob, f"{name} (enrolled)", replay, enrolled, initials)
    owner, claimant, dob, initials = MISMATCH
    if analysed.get(owner) and analysed.get(claimant):
        enrolled, _ = _split(analysed[owner])
        _, replay = _split(analysed[claimant])
        add(10, dob, f"{owner}'s NIK claimed by {claimant} (mismatch)", replay, enrolled, initials)
    who, dob = PENDING
    if analysed.get(who):
        _, replay = _split(analysed[who])
        add(11, dob, f"{who} with a NIK that has no reference (pending)", replay, None)
    return people, entries


def ensure_demo_references(
    cfg: KioskConfig,
    store: ReferenceStore,
    pipeline: FacePipeline,
    *,
    faces_dir: Path = DEMO_FACES,
    now: float | None = None,
) -> DemoVillage | None:
    """Install the demo village set if it is not installed yet (idempotent); None without faces.

    Never replaces a set signed by another (real) portal key. ``now`` defaults to the store's
    clock (wall seconds).
    """
    if not faces_dir.is_dir():
        log.info("demo faces not found at %s: no demo reference set", faces_dir)
        return None
    data_dir = Path(cfg.paths.data_dir)
    key = _load_or_create_key(data_dir / "keys" / DEMO_KEY)
    kid = key_id(key.public_key())
    map_path = data_dir / DEMO_MAP
    info = store.info(cfg.device.village_code)
    if info is not None and info.state == "active" and info.portal_kid != kid:
        log.info("a portal reference set is installed: the demo set is not used")
        return None
    if info is not None and info.state == "active" and map_path.is_file():
        village = _read_map(map_path)
        if village is not None:
            return village
    people, entries = build_demo_people(cfg, pipeline, faces_dir)
    issued = int(store.clock.now() if now is None else now)
    version = (info.set_version if info is not None else 0) + 1
    body = reference_set_body(
        village_code=cfg.device.village_code,
        version=version,
        issued_at=issued,
        expires_at=int(issued + DEMO_TTL_S),
        entries=entries,
    )
    refs = parse_reference_set(
        sign_message(body, key),
        trusted=key.public_key(),
        village_code=cfg.device.village_code,
        now=issued,
    )
    store.replace(refs)
    map_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = map_path.with_suffix(".tmp")
    tmp.write_text(json.dumps([asdict(p) for p in people], indent=1), encoding="utf-8")
    tmp.replace(map_path)
    log.info("demo reference set v%d installed (%d people)", version, len(entries))
    return DemoVillage(tuple(people))


def _read_map(path: Path) -> DemoVillage | None:
    try:
        rows = json.loads(path.read_text(encoding="utf-8"))
        people = tuple(
            DemoPerson(r["nik"], r["label"], r["enrolled"], tuple(r["replay"]), r["expect"])
            for r in rows
        )
    except (OSError, ValueError, KeyError, TypeError):
        log.warning("demo map %s unreadable: rebuilding the demo set", path.name)
        return None
    if not all(Path(p).is_file() for person in people for p in person.replay):
        return None
    return DemoVillage(people)

"""Demo agents: one agent of each role, enrolled from ``../shared/faces`` with known PINs.

Only in demo mode (the replay camera over the demo faces, see :mod:`kiosk.references.demo`).
The agent's enrolled template is the embedding of one photo of a demo person; when the kiosk
asks for that agent's face (login, co-signature of a vouch), :class:`DemoAgentMatcher` points
the replay camera at the person's *other* photos, so the face step is a real match, not a
shortcut. The PINs are published in README.md and docs/agents.md: demo only, never on a device.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kiosk.errors import KioskError
from kiosk.vision.camera import DEMO_FACES

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DemoAgent:
    """One demo agent account."""

    agent_id: str
    role: str
    name: str
    person: str  # folder under ../shared/faces/identities
    pin: str


DEMO_AGENTS: tuple[DemoAgent, ...] = (
    DemoAgent("AG-DEMO-PKH", "pkh", "Bu Dewi (PKH)", "p09", "482915"),
    DemoAgent("AG-DEMO-TKSK", "tksk", "Pak Hadi (TKSK)", "p05", "573028"),
    DemoAgent("AG-DEMO-DW", "dasa_wisma", "Bu Ratna (Dasa Wisma)", "p08", "691374"),
)
"""The demo's agents: PKH facilitator, TKSK worker and Dasa Wisma cadre (README lists them)."""


class DemoAgentMatcher:
    """An ``AgentFaceMatcher`` that first shows the agent's own other photos on the replay
    camera, then runs the real capture-and-match (``inner``)."""

    def __init__(self, inner: Callable[[bytes], str | None], camera: Any) -> None:
        self._inner = inner
        self._camera = camera
        self.photos: dict[bytes, list[Path]] = {}

    def __call__(self, template: bytes) -> str | None:
        """Match band of the live face against ``template`` (the agent's own photos shown)."""
        play = getattr(self._camera, "play", None)
        shown = self.photos.get(bytes(template))
        if play is not None and shown:
            play(shown)
        return self._inner(template)


def ensure_demo_agents(
    agents: Any, pipeline: Any, matcher: DemoAgentMatcher, faces_dir: Path = DEMO_FACES
) -> list[str]:
    """Enrol the demo agents not enrolled yet (idempotent); returns the ids that can log in.

    Photos are chosen as for the demo residents (:func:`kiosk.references.demo._split`): the
    enrolled template is the photo that best matches the live-passing ones, and those are what
    the camera shows at the agent's face step. A person without a live-passing photo is left out.
    """
    from kiosk.core.biometrics import LivenessBand
    from kiosk.references.demo import _analyse, _split
    from kiosk.vision.embedder import template_to_bytes

    ready: list[str] = []
    for demo in DEMO_AGENTS:
        try:
            shots = _analyse(pipeline, faces_dir / demo.person)
            if not shots:
                log.warning("demo agent %s has no usable photo; left out", demo.agent_id)
                continue
            enrolled, replay = _split(shots)
            live = [s.path for s in replay if s.live is LivenessBand.LIVE]
            if not live:
                log.warning("demo agent %s has no live-passing photo; left out", demo.agent_id)
                continue
            if agents.accounts.get(demo.agent_id) is None:
                template = template_to_bytes(enrolled.embedding)
                agents.accounts.enrol(demo.agent_id, demo.role, demo.name, demo.pin, template)
                log.info("demo agent %s enrolled (%s)", demo.agent_id, demo.role)
            stored = agents.accounts.template(demo.agent_id)
            if stored is not None:
                matcher.photos[bytes(stored)] = live
                ready.append(demo.agent_id)
        except (KioskError, OSError) as err:
            log.warning("demo agent %s not enrolled: %s", demo.agent_id, type(err).__name__)
    return ready

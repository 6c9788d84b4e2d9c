"""The ports: every interface the services need from the outside world, and the values that
cross them. Adapters implement these (structurally, or importing this module: the one module of
``kiosk.services`` an adapter may import); services import only this module and ``kiosk.core``.
Each port has a fake shipped beside its real adapter (gpiozero's ``pins/mock.py`` is the model):

- ``FaceVerifier``: ``kiosk.vision.verifier.CameraFaceVerifier``; fake
  ``kiosk.vision.fake.ScriptedVerifier``.
- ``Sealer``: ``kiosk.crypto.envelope`` (``sealer_from_config``); fake
  ``kiosk.crypto.fake.JsonSealer``.
- ``Cipher``: ``kiosk.crypto.atrest.AtRestCipher`` (no hardware: tests use the real one).
- ``RegistrationStore``: ``kiosk.store.registrations.RegistrationRepository`` (real SQLite).
- ``Clock``: ``kiosk.core.clock.SystemClock``; fake ``kiosk.core.clock.FakeClock``.
- ``ReceiptPrinter``: ``kiosk.printer.escpos.EscPosPrinter``; fake
  ``kiosk.printer.fake.FilePrinter``.
- ``SpeechSynth``: ``kiosk.speech.espeak.Speech`` (espeak-ng; off: ``Speech(enabled=False)``);
  fake ``kiosk.speech.fake.RecordingSpeech``.
- ``Link``: ``kiosk.uplink.service.Uplink`` (MQTT); none: records wait in the outbox.
- ``Microphone``: ``kiosk.audio.arecord.ArecordMicrophone`` (ALSA, a USB microphone); fake
  ``kiosk.audio.tone.ToneMicrophone`` (a spoken-like tone made at run time).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from kiosk.core.clock import Clock
from kiosk.core.family_card import FamilyAnswer
from kiosk.core.ids import keyed_hash
from kiosk.core.portal_status import PortalStatus
from kiosk.core.session import Outcome
from kiosk.core.tally import Count

__all__ = [
    "OBJECTION_OPEN_STATES",
    "Audit",
    "Cipher",
    "Clock",
    "ExistingRegistration",
    "FaceCheckResult",
    "FaceVerifier",
    "Link",
    "Microphone",
    "NewObjection",
    "NewRegistration",
    "NikParser",
    "ObjectionStatus",
    "ObjectionStore",
    "Receipt",
    "ReceiptPrinter",
    "Recording",
    "RegistrationStatus",
    "RegistrationStore",
    "Sealer",
    "SpeechSynth",
    "StatusQuery",
    "keyed_hash",
]


@dataclass(frozen=True)
class FaceCheckResult:
    """One capture-and-verify attempt, as the flow needs it (no raw scores)."""

    outcome: Outcome
    template: bytes | None  # float32 embedding bytes of the best capture, if any
    reference_source: str | None  # e.g. village_set, online, none
    match_band: str | None  # HIGH / MEDIUM / LOW / NONE, or None without a reference
    liveness_band: str | None  # live / uncertain / spoof
    coaching: str | None  # coaching code when no usable face was captured
    capture: Any = None  # best frame kept in memory for the agent path; never persisted
    decision_s: float | None = None  # seconds from the start of the attempt to the decision

    @property
    def needs_coaching(self) -> bool:
        """The one "no usable face" rule: nothing was captured, so coach and try again (the
        attempt does not count)."""
        return self.template is None and self.coaching is not None


class FaceVerifier(Protocol):
    """Capture the person in front of the camera and decide against their claimed NIK."""

    def check(self, nik: str) -> FaceCheckResult:
        """Run one attempt: capture, quality, liveness, match, policy."""
        ...


class IdCardReader(Protocol):
    """Reads the e-KTP held to the camera when the village set has no reference for a NIK."""

    def id_card_needed(self, nik: str) -> bool:
        """True when ``nik`` has no village reference and no card was read for it yet."""
        ...

    def read_id_card(self, nik: str) -> str | None:
        """Read the card: None when its face is now ``nik``'s reference, else a coaching code."""
        ...

    def forget_id_card(self) -> None:
        """Drop the card reference (memory only) when the session ends."""
        ...


class Sealer(Protocol):
    """Seal a record for the portal (the kiosk cannot open it again)."""

    def seal(self, kind: str, record_id: str, record: dict[str, Any]) -> bytes:
        """Return the envelope bytes for ``record``."""
        ...


class Cipher(Protocol):
    """At-rest encryption with the device key (personal data the kiosk must read again)."""

    def seal(self, plaintext: bytes, purpose: str) -> bytes:
        """Encrypt ``plaintext``, bound to ``purpose``."""
        ...

    def open(self, sealed: bytes, purpose: str) -> bytes:
        """Decrypt what :meth:`seal` made for the same ``purpose``."""
        ...


class NikParser(Protocol):
    """Validate and parse a NIK typed by a person."""

    def __call__(self, text: str) -> Any:
        """Return parsed info or raise :class:`kiosk.errors.NikError`."""
        ...


Audit = Callable[[str, str, str | None], Any]
"""``audit(kind, actor, subject)``: the agents' audit log (kiosk.agents.audit_store)."""


@dataclass(frozen=True)
class NewRegistration:
    """What the kiosk keeps locally about a registration it confirmed."""

    record_id: str
    receipt_no: str
    nik_hmac: str
    created_at: float
    created_mono: float
    boot_id: str
    clock_synced: bool
    verification: str
    form_id: str
    form_version: str
    consent_version: str
    assisted_by: str | None
    template_sealed: bytes | None
    registration_id: str | None = None  # None: a new registration (its id is ``record_id``)
    version: int = 1
    session_key: str | None = None  # idempotency key of the submitting session
    consent_heard: str | None = None  # summary | full
    kk_hmac: str | None = None  # keyed hash of the No. KK (None: no KK answered)
    members_count: int | None = None  # people on the member list


@dataclass(frozen=True)
class RegistrationStatus:
    """The status of one version of a registration, as the kiosk knows it."""

    record_id: str
    receipt_no: str
    created_at: float
    verification: str
    status: str
    status_reason: str | None
    outbox_state: str | None
    registration_id: str = ""
    version: int = 1
    status_at: float | None = None  # set when the portal sent this status; None: kiosk only


@dataclass(frozen=True)
class ExistingRegistration:
    """The newest version of the registration a NIK already has on this kiosk."""

    registration_id: str
    receipt_no: str
    version: int
    created_at: float
    verification: str
    members_count: int | None = None
    nik_hmac: str = ""
    source: str = "kiosk"  # kiosk | portal (a family card registered at another kiosk)


class RegistrationStore(Protocol):
    """The registrations this kiosk holds: committed with their outbox row, looked up by the
    keyed hash of a NIK (never the NIK itself)."""

    def commit(
        self, reg: NewRegistration, kind: str, payload: bytes, counts: Iterable[Count] = ()
    ) -> None:
        """Write the registration row and its sealed outbox row (and the meeting report's
        ``counts``) in one transaction."""
        ...

    def by_nik(self, nik_hmac: str) -> list[RegistrationStatus]:
        """Every version of the NIK's registrations, newest first."""
        ...

    def by_receipt(self, nik_hmac: str, receipt_no: str) -> list[RegistrationStatus]:
        """The versions of the registration with this receipt code and NIK, newest first."""
        ...

    def latest_for_nik(self, nik_hmac: str) -> ExistingRegistration | None:
        """The newest version of the NIK's registration, or None."""
        ...

    def latest_for_kk(self, kk_hmac: str) -> ExistingRegistration | None:
        """The newest version of a family card's registration (keyed KK hash), or None."""
        ...

    def next_version(self, registration_id: str) -> int:
        """The version number an update of ``registration_id`` gets."""
        ...

    def by_session_key(self, session_key: str) -> tuple[str, str] | None:
        """(record id, receipt) a session already committed, or None."""
        ...

    def receipt_taken(self, receipt_no: str) -> bool:
        """True when a registration already has this receipt code."""
        ...

    def delivery(self, record_id: str) -> str | None:
        """The outbox state of ``record_id`` (pending | sent | acked | dead)."""
        ...


@dataclass(frozen=True)
class Receipt:
    """What goes on a receipt's paper (already translated text)."""

    title: str
    number_label: str
    number: str
    lines: tuple[str, ...]


class ReceiptPrinter(Protocol):
    """The receipt printer; each method raises :class:`kiosk.errors.HardwareError` when it
    cannot print."""

    def print_receipt(self, receipt: Receipt) -> None:
        """Print ``receipt``: title, the number in large type and as a QR code, its lines."""
        ...

    def print_document(self, title: str, lines: list[str]) -> None:
        """Print a plain document (the meeting report): title, then lines."""
        ...


class SpeechSynth(Protocol):
    """Speaks prompts: registers a text (fast, while a page renders) and serves its audio by
    key when the browser asks; personal texts never reach a disk cache."""

    @property
    def available(self) -> bool:
        """True when prompts can be spoken."""
        ...

    def register(self, text: str, language: str, *, personal: bool = False) -> str | None:
        """A key for ``text`` spoken in ``language``'s voice (None when speech is off)."""
        ...

    def forget_personal(self) -> None:
        """Drop every personal text and its audio (a session ended)."""
        ...

    def wav(self, key: str) -> bytes | None:
        """The WAV audio of ``key``, or None."""
        ...

    def duration(self, key: str) -> float | None:
        """Seconds of speech in ``key``, or None."""
        ...


class Recording(Protocol):
    """One recording under way (memory only); the recorder stops itself at its limit."""

    def stop(self) -> bytes:
        """Stop now (if still running) and return the WAV (kiosk.core.voice's one format);
        :class:`kiosk.errors.MicrophoneError` when the device failed."""
        ...


class Microphone(Protocol):
    """Records a spoken note from the kiosk's microphone."""

    def start(self, max_seconds: float) -> Recording:
        """Start recording, for ``max_seconds`` at most; :class:`kiosk.errors.MicrophoneError`
        (no_microphone, microphone_busy, microphone_failed) when it cannot."""
        ...


class Link(Protocol):
    """The portal link: wakes on a commit, counts what still waits."""

    @property
    def online(self) -> bool:
        """True while connected to the broker."""
        ...

    def notify(self) -> None:
        """A record was committed: publish without waiting for the next poll."""
        ...

    def pending_count(self) -> int:
        """Records in the outbox not yet acknowledged by the portal."""
        ...


class StatusQuery(Protocol):
    """Ask the portal for a status by NIK digest and receipt code, with a bounded wait."""

    @property
    def available(self) -> bool:
        """True when a query could be sent now (the link is up)."""
        ...

    def ask(self, digest: str, receipt_no: str) -> PortalStatus | None:
        """The portal's signed answer, or None (offline, no answer in time, refused)."""
        ...


class FamilyQuery(Protocol):
    """Ask the portal whether a No. KK is registered at any kiosk, with a short bounded wait."""

    @property
    def available(self) -> bool:
        """True when a query could be sent now (the link is up)."""
        ...

    def ask(self, digest: str) -> FamilyAnswer | None:
        """The portal's signed answer, or None (offline, no answer in time, refused)."""
        ...


OBJECTION_OPEN_STATES = ("waiting", "received", "under_review")
"""States in which an objection is still open (a second one is refused)."""


@dataclass(frozen=True)
class NewObjection:
    """What the kiosk keeps locally about an objection it confirmed (no note, no photo)."""

    objection_id: str
    registration_id: str
    record_id: str
    nik_hmac: str
    reason_code: str
    has_note: bool
    has_evidence: bool
    filed_at: float
    filed_by: str  # villager | agent
    agent_id: str | None
    session_key: str


@dataclass(frozen=True)
class ObjectionStatus:
    """One objection as the kiosk knows it (state from the portal when it answered)."""

    objection_id: str
    registration_id: str
    reason_code: str
    filed_at: float
    filed_by: str
    state: str  # waiting (not yet held by the portal) | received | under_review | upheld | rejected
    state_reason: str | None
    state_at: float | None
    outbox_state: str | None


class ObjectionStore(Protocol):
    """The objections filed at this kiosk: committed with their sealed outbox row."""

    def commit(
        self, new: NewObjection, payload: bytes, also: Callable[[Any], object] | None = None
    ) -> None:
        """Write the objection and its outbox row (and ``also(tx)``) in one transaction."""
        ...

    def for_registration(self, registration_id: str) -> list[ObjectionStatus]:
        """Objections to one registration, newest first."""
        ...

    def by_session_key(self, session_key: str) -> str | None:
        """The objection id a filing session already committed, or None."""
        ...

    def set_state(
        self, objection_id: str, state: str, reason: str | None, at: float | None
    ) -> bool:
        """Remember the portal's state of an objection."""
        ...

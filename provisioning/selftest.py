"""Step 6, self-test: a declarative table of checks, each pass / fail / skip / unconfirmed.

'unconfirmed' is what a check that needs the technician's eyes or finger (lights, the help
button) records when nobody answered (``--yes`` / non-interactive): it is never a pass.
"""

from __future__ import annotations

import json
import queue
import shutil
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from kiosk.config import KioskConfig
from kiosk.core.i18n import N_, Translate, render, untranslated
from kiosk.errors import KioskError
from kiosk.uplink.topics import Name

from .context import Context
from .errors import StepError
from .fsutil import write_text_atomic
from .tomlfile import load_kiosk_config

PASS, FAIL, SKIP, UNCONFIRMED = "pass", "fail", "skip", "unconfirmed"

MIN_FREE_BYTES = 1024 * 1024 * 1024
"""Free space the data partition must have after provisioning (bytes): 1 GiB."""
EARLIEST_PLAUSIBLE = 1_767_225_600.0
"""2026-01-01 UTC: a wall clock before this has never been set (the Pi has no RTC)."""
CAMERA_TIMEOUT_S = 10.0
BROKER_TIMEOUT_S = 20.0
INPUT_WAIT_S = 10.0
"""How long the technician has to press the button / trigger the sensor, seconds."""


@dataclass(frozen=True)
class CheckResult:
    """One check's verdict and a sentence for the technician.

    ``detail`` is the English sentence (console, report); ``msgid`` and ``params`` are the same
    sentence for the catalogues, so the technician page shows it translated; ``subject`` (the
    broker's host:port) goes before it in both."""

    name: str
    status: str
    detail: str
    fix: str | None = None
    msgid: str = ""
    params: dict[str, str] = field(default_factory=dict)
    subject: str = ""

    def text(self, translate: Translate = untranslated) -> str:
        """The sentence in the language of ``translate``, after the subject."""
        said = render(self.msgid, self.params, translate) if self.msgid else self.detail
        return f"{self.subject}: {said}" if self.subject else said


def check(
    name: str,
    status: str,
    msgid: str,
    fix: str | None = None,
    *,
    detail: str | None = None,
    subject: str = "",
    **params: object,
) -> CheckResult:
    """A result whose sentence is ``msgid`` filled with ``params`` (``detail``: other English
    words for the console, e.g. the operating system's own error; ``subject``: what it is
    about, said before it)."""
    values = {k: str(v) for k, v in params.items()}
    english = detail if detail is not None else render(msgid, values)
    english = f"{subject}: {english}" if subject else english
    return CheckResult(name, status, english, fix, msgid=msgid, params=values, subject=subject)


@dataclass
class Probes:
    """Things a check asks the machine, injectable in tests."""

    clock_synchronised: Callable[[], bool | None] = field(default=lambda: timedatectl_synced())
    pin_factory: Any = None
    broker_timeout_s: float = BROKER_TIMEOUT_S
    camera_timeout_s: float = CAMERA_TIMEOUT_S
    min_free_bytes: int = MIN_FREE_BYTES
    input_wait_s: float = INPUT_WAIT_S


@dataclass
class Env:
    """What the checks share: context, config, probes, and the lazily loaded model pack."""

    ctx: Context
    cfg: KioskConfig
    probes: Probes
    _pack: Any = None

    def pack(self) -> Any:
        """The installed (verified) model pack."""
        if self._pack is None:
            from kiosk.vision.models import ModelPack

            # the provisioned pack, never the development fallback beside the checkout
            where = self.cfg.paths.models_dir or self.ctx.layout.models
            self._pack = ModelPack.load(where, threads=1)
        return self._pack


CheckFn = Callable[[Env], list[CheckResult]]


def timedatectl_synced() -> bool | None:
    """systemd's view of NTP synchronisation; None when it cannot be asked."""
    exe = shutil.which("timedatectl")
    if exe is None:
        return None
    try:
        out = subprocess.run(
            [exe, "show", "-p", "NTPSynchronized", "--value"],
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    value = out.stdout.strip()
    return {"yes": True, "no": False}.get(value)


# --- camera -------------------------------------------------------------------------------
def check_camera(env: Env) -> list[CheckResult]:
    """A frame arrives within the timeout and is neither black, blown out nor flat."""
    from kiosk.vision.camera import open_camera

    try:
        cam = open_camera(env.cfg.camera)
        cam.start()
    except KioskError as err:
        return [
            check(
                "camera",
                FAIL,
                N_("camera cannot be opened: %(error)s"),
                "check the camera cable and camera.backend in kiosk.toml",
                error=err,
            )
        ]
    try:
        deadline = time.monotonic() + env.probes.camera_timeout_s
        frame = cam.latest()
        while frame is None and time.monotonic() < deadline:
            time.sleep(0.05)
            frame = cam.latest()
    finally:
        cam.stop()
    if frame is None:
        return [
            check(
                "camera",
                FAIL,
                N_("no picture from the camera within %(s)s s"),
                "reseat the camera cable, then reboot",
                s=f"{env.probes.camera_timeout_s:.0f}",
            )
        ]
    img = np.asarray(frame.image, dtype=np.float32)
    luma = float((img @ np.array([0.299, 0.587, 0.114], np.float32)).mean())
    spread = float(img.std())
    h, w = frame.image.shape[:2]
    seen = {"w": w, "h": h, "luma": f"{luma:.0f}", "contrast": f"{spread:.0f}"}
    if luma < 30 or luma > 230 or spread < 5:
        return [
            check(
                "camera_quality",
                FAIL,
                N_(
                    "%(w)sx%(h)s picture, mean brightness %(luma)s/255, contrast %(contrast)s: "
                    "too dark, too bright or flat"
                ),
                "remove the lens cap, clean the lens, fix the light",
                **seen,
            )
        ]
    frame_ok = N_("%(w)sx%(h)s picture, mean brightness %(luma)s/255, contrast %(contrast)s")
    return [check("camera", PASS, frame_ok, **seen), _face_in_frame(env, frame.image)]


def _face_in_frame(env: Env, image: np.ndarray) -> CheckResult:
    """The whole face pipeline on the camera frame: a face found = an end-to-end known answer."""
    from kiosk.vision.pipeline import FacePipeline

    try:
        analysis = FacePipeline(env.pack()).analyze(image)
    except KioskError as err:
        return check(
            "camera_face",
            FAIL,
            N_("the face check failed on the camera picture: %(error)s"),
            "reinstall the model pack",
            error=err,
        )
    if analysis.faces == 0:
        return check(
            "camera_face",
            SKIP,
            N_("no face in front of the camera (stand there for a full check)"),
        )
    return check(
        "camera_face",
        PASS,
        N_("face found; picture advice: %(advice)s"),
        advice=analysis.coaching.value,
    )


# --- models: known-answer inference -------------------------------------------------------
def _kat_detector(model: Any) -> str | None:
    x = np.zeros(model.spec.inputs[0], np.float32)  # mid-grey in [-1, 1]: no face anywhere
    out = model.run(x)
    scores = 1.0 / (1.0 + np.exp(-np.clip(out[1], -80, 80)))
    if float(scores.max()) >= 0.5:
        return N_("found a face in a blank grey image")
    return None


def _kat_embedder(model: Any) -> str | None:
    rng = np.random.default_rng(20260101)
    a = rng.uniform(-1, 1, model.spec.inputs[0]).astype(np.float32)
    e1, e2 = model.run(a)[0].ravel(), model.run(a)[0].ravel()
    if not np.array_equal(e1, e2):
        return N_("two runs on the same input gave different face codes")
    if float(np.linalg.norm(e1)) <= 1e-6:
        return N_("the face code is all zeros")
    e3 = model.run(-a)[0].ravel()
    cos = float(e1 @ e3 / (np.linalg.norm(e1) * np.linalg.norm(e3) + 1e-12))
    if cos > 0.9999:
        return N_("different inputs gave the same face code")
    return None


def _kat_mesh(model: Any) -> str | None:
    x = np.full(model.spec.inputs[0], 0.5, np.float32)
    first, second = model.run(x), model.run(x)
    if not all(np.array_equal(a, b) for a, b in zip(first, second, strict=True)):
        return N_("two runs on the same input differ")
    return None


def _kat_fas(model: Any) -> str | None:
    x = np.full(model.spec.inputs[0], 128.0, np.float32)
    logits = model.run(x)[0].ravel().astype(np.float64)
    p = np.exp(logits - logits.max())
    p /= p.sum()
    if not (np.all(np.isfinite(p)) and abs(float(p.sum()) - 1.0) < 1e-6):
        return N_("the liveness output is not a probability distribution")
    return None


KNOWN_ANSWERS: dict[str, Callable[[Any], str | None]] = {
    "detector": _kat_detector,
    "detector_full": _kat_detector,
    "mesh": _kat_mesh,
    "embedder": _kat_embedder,
    "fas_v2": _kat_fas,
    "fas_v1se": _kat_fas,
}
"""Model role -> known-answer test (None = pass, else a msgid saying what went wrong)."""


def check_models(env: Env) -> list[CheckResult]:
    """Load the verified pack and run each model's known-answer test."""
    try:
        pack = env.pack()
    except KioskError as err:
        return [
            check(
                "models",
                FAIL,
                N_("the model pack cannot be loaded: %(error)s"),
                "install the model pack again: kiosk-provision models --from DIR",
                detail=str(err),
                error=err,
            )
        ]
    results = []
    for role, kat in KNOWN_ANSWERS.items():
        if role not in pack:
            results.append(check(f"model_{role}", SKIP, N_("not in this pack")))
            continue
        model = pack[role].name
        error: dict[str, str] = {}
        try:
            problem = kat(pack[role])
        except KioskError as err:
            problem, error = N_("the model does not run: %(error)s"), {"error": str(err)}
        results.append(
            check(
                f"model_{role}",
                FAIL,
                problem,
                "reinstall the model pack; if it fails again, report the software "
                "version and this message",
                subject=model,
                **error,
            )
            if problem
            else check(f"model_{role}", PASS, N_("known answer right"), subject=model)
        )
    return results


# --- GPIO ---------------------------------------------------------------------------------
OUTPUT_QUESTIONS: dict[str, str] = {
    "status_led": "Is the GREEN status light on?",
    "fault_led": "Is the RED fault light on?",
    "buzzer": "Is the buzzer sounding?",
    "face_light": "Is the face light on?",
}
INPUT_QUESTIONS: dict[str, str] = {
    "help_button": "Answer yes, then press the help button within {s:.0f} seconds.",
    "presence": "Answer yes, then walk in front of the kiosk (presence sensor) within {s:.0f} s.",
}


def _answer(answer: bool | None, name: str, yes: str, no: str, fix: str) -> CheckResult:
    if answer is None:
        return check(name, UNCONFIRMED, N_("needs the technician to confirm (run without --yes)"))
    return check(name, PASS, yes) if answer else check(name, FAIL, no, fix)


def check_gpio(env: Env) -> list[CheckResult]:
    """Switch every output on (technician confirms) and read every input (technician acts)."""
    from firmware.pins import build_peripherals

    try:
        periph = build_peripherals(env.cfg.gpio, env.probes.pin_factory)
    except KioskError as err:
        return [
            check(
                "gpio",
                FAIL,
                N_("GPIO cannot be set up: %(error)s"),
                "check the [gpio] section of kiosk.toml and the wiring",
                error=err,
            )
        ]
    results = []
    try:
        for role, question in OUTPUT_QUESTIONS.items():
            if role not in periph:
                continue
            dev = periph[role]
            dev.on()
            try:
                electrically_on = bool(dev.value)
                answer = env.ctx.confirm(question)
            finally:
                dev.off()
            if not electrically_on:
                results.append(
                    check(
                        f"gpio_{role}",
                        FAIL,
                        N_("the output did not switch on"),
                        "check gpio.pins for this role",
                    )
                )
                continue
            results.append(
                _answer(
                    answer,
                    f"gpio_{role}",
                    N_("the technician saw it on"),
                    N_("the technician did not see it"),
                    "check the wiring, polarity (gpio.active_high) and the part itself",
                )
            )
        for role, question in INPUT_QUESTIONS.items():
            if role not in periph:
                continue
            dev = periph[role]
            seen_event = threading.Event()
            dev.when_activated = seen_event.set
            answer = env.ctx.confirm(question.format(s=env.probes.input_wait_s))
            if answer is None:
                results.append(_answer(None, f"gpio_{role}", "", "", ""))
                continue
            seen = bool(dev.is_active) or seen_event.wait(env.probes.input_wait_s if answer else 0)
            results.append(
                check(f"gpio_{role}", PASS, N_("the input was seen active"))
                if answer and seen
                else check(
                    f"gpio_{role}",
                    FAIL,
                    N_("the kiosk did not see the input change")
                    if answer
                    else N_("the technician could not operate it"),
                    "check the wiring and gpio.pins / gpio.active_high",
                )
            )
    finally:
        periph.close()
    return results


# --- broker round trip --------------------------------------------------------------------
def check_broker(env: Env) -> list[CheckResult]:
    """Publish a sealed self-test record and wait for the portal's application ack."""

    up = env.cfg.uplink
    if not up.enabled:
        return [check("broker", SKIP, N_("the uplink is disabled in kiosk.toml"))]
    where = f"{up.host}:{up.port}"
    return [
        replace(r, detail=f"{where}: {r.detail}", subject=where) for r in _broker_round_trip(env)
    ]


def _broker_round_trip(env: Env) -> list[CheckResult]:
    """The broker check proper, at the configured host and port."""
    from kiosk.core.ids import uuid7
    from kiosk.crypto.envelope import sealer_from_config
    from kiosk.crypto.frame import FrameSigner
    from kiosk.crypto.keys import load_or_create_device_key
    from kiosk.references.message import load_trusted_keys
    from kiosk.uplink.client import Connected, Inbound, MqttLink
    from kiosk.uplink.inbound import Acks, decode

    from .network import check_reachable

    up = env.cfg.uplink
    try:
        check_reachable(up.host, up.port, timeout_s=min(5.0, env.probes.broker_timeout_s))
    except StepError as err:
        unreachable = N_("cannot reach the broker (its name, the network or a firewall)")
        return [check("broker", FAIL, unreachable, err.fix, detail=err.problem)]
    try:
        sealer = sealer_from_config(env.cfg)
    except KioskError as err:
        return [
            check(
                "broker",
                FAIL,
                N_("cannot seal records: %(error)s"),
                "finish the identity step (portal public key)",
                error=err,
            )
        ]
    import os

    events: queue.Queue[Any] = queue.Queue()
    link = MqttLink(up, env.cfg.device.id, events.put)
    record_id = uuid7(env.ctx.clock.now(), os.urandom(10))
    record = {
        "type": "provisioning_selftest",
        "device_id": env.cfg.device.id,
        "at": env.ctx.clock.now(),
    }
    data_dir = Path(env.cfg.paths.data_dir)

    def trusted() -> list[Any]:
        return load_trusted_keys(data_dir)

    refused = ""
    started = time.monotonic()
    deadline = started + env.probes.broker_timeout_s
    link.start()
    try:
        published = False
        while time.monotonic() < deadline:
            try:
                ev = events.get(timeout=0.1)
            except queue.Empty:
                continue
            if isinstance(ev, Connected) and not published:
                sealed = sealer.seal(Name.AUDIT, record_id, record)
                signer = FrameSigner(
                    device_id=env.cfg.device.id, key=load_or_create_device_key(data_dir)
                )
                link.publish_records(Name.AUDIT, [record_id], signer(Name.AUDIT, [sealed]))
                published = True
            elif isinstance(ev, Inbound) and ev.topic.endswith(f"/{Name.ACK}"):
                try:  # the kiosk's own rule: bounded, signed by a trusted portal key, ours
                    msg = decode(up.topic_prefix, env.cfg.device.id, ev, trusted)
                except KioskError as err:
                    refused = str(err)[:200]
                    continue
                if not isinstance(msg, Acks):
                    continue
                ack = next((a for a in msg.items if a.record_id == record_id), None)
                if ack is None:
                    continue
                ms = (time.monotonic() - started) * 1000
                if ack.result in ("stored", "duplicate"):
                    return [
                        check(
                            "broker",
                            PASS,
                            N_("the portal acknowledged a test record in %(ms)s ms"),
                            ms=f"{ms:.0f}",
                        )
                    ]
                return [
                    check(
                        "broker",
                        FAIL,
                        N_("the portal rejected the test record: %(reason)s"),
                        "ask the portal team to enrol this kiosk's device key "
                        "(device_ed25519.pub.pem from the provisioning folder)",
                        reason=ack.reason,
                    )
                ]
        if refused and published:
            return [
                check(
                    "broker",
                    FAIL,
                    N_("the portal's reply was refused: %(error)s"),
                    "install the portal's signing key (kiosk-provision identity "
                    "--portal-signing-key)",
                    error=refused,
                )
            ]
        if link.last_error:
            msgid, error = (
                N_("no application ack from the portal within %(s)s s (%(error)s)"),
                {"error": link.last_error},
            )
        elif published:
            msgid, error = N_("no application ack from the portal within %(s)s s (connected)"), {}
        else:
            msgid, error = (
                N_("no application ack from the portal within %(s)s s (no connection)"),
                {},
            )
        return [
            check(
                "broker",
                FAIL,
                msgid,
                "check the certificate (identity step), the broker address and that "
                "the portal is running",
                s=f"{env.probes.broker_timeout_s:.0f}",
                **error,
            )
        ]
    finally:
        link.stop()


# --- host ---------------------------------------------------------------------------------
def check_disk(env: Env) -> list[CheckResult]:
    """Enough free space on the data partition."""
    free = shutil.disk_usage(env.ctx.data_dir).free
    need = env.probes.min_free_bytes
    space = N_("%(free)s GiB free on the data partition (needs %(need)s GiB)")
    sizes = {"free": f"{free / 2**30:.1f}", "need": f"{need / 2**30:.1f}"}
    if free < need:
        return [check("disk", FAIL, space, "use a larger SD card or remove old files", **sizes)]
    return [check("disk", PASS, space, **sizes)]


def check_clock(env: Env) -> list[CheckResult]:
    """The wall clock is plausible and NTP-synchronised."""
    now = env.ctx.clock.now()
    if now < EARLIEST_PLAUSIBLE:
        return [
            check(
                "clock",
                FAIL,
                N_("the clock is not set (date before 2026)"),
                "connect to the network so the clock syncs (or set it with 'sudo date -s')",
            )
        ]
    synced = env.probes.clock_synchronised()
    if synced is None:
        return [check("clock", SKIP, N_("cannot ask timedatectl whether NTP is synchronised"))]
    if not synced:
        return [
            check(
                "clock",
                FAIL,
                N_("the clock is not synchronised with NTP"),
                "check the network; 'timedatectl' shows the NTP state",
            )
        ]
    return [check("clock", PASS, N_("synchronised with NTP"))]


def check_data_partition(env: Env) -> list[CheckResult]:
    """The data directory is writable and (on a device) on persistent storage."""
    from firmware.storage import check_persistent, require_writable

    try:
        require_writable(env.ctx.data_dir)
    except KioskError as err:
        return [
            check(
                "data_partition",
                FAIL,
                N_("the data directory cannot be written: %(error)s"),
                "remount /data read-write; check the SD card",
                detail=str(err),
                error=err,
            )
        ]
    if not env.cfg.paths.require_persistent:
        return [
            check(
                "data_partition",
                SKIP,
                N_("writable; persistence not required (paths.require_persistent = false)"),
            )
        ]
    try:
        check_persistent(env.ctx.data_dir)
    except KioskError as err:
        return [
            check(
                "data_partition",
                FAIL,
                N_("the data directory is not on persistent storage: %(error)s"),
                "put the data directory on the data partition (/data)",
                detail=str(err),
                error=err,
            )
        ]
    return [check("data_partition", PASS, N_("writable and persistent"))]


CHECKS: tuple[tuple[str, CheckFn], ...] = (
    ("camera", check_camera),
    ("models", check_models),
    ("gpio", check_gpio),
    ("broker", check_broker),
    ("disk", check_disk),
    ("clock", check_clock),
    ("data_partition", check_data_partition),
)
"""Every check, in the order the technician sees them."""


def run_selftest(
    ctx: Context,
    probes: Probes | None = None,
    only: tuple[str, ...] | None = None,
    cfg: KioskConfig | None = None,
) -> dict[str, Any]:
    """Run the checks and return ``{"passed", "checks": [...]}``; also kept in selftest.json.

    ``cfg``: the configuration the running kiosk uses (the technician page passes it, so the
    broker is checked where the kiosk really connects); default ``<data_dir>/kiosk.toml``.
    """
    cfg = cfg if cfg is not None else load_kiosk_config(ctx.layout.config)
    cfg = cfg.model_copy(update={"paths": cfg.paths.model_copy(update={"data_dir": ctx.data_dir})})
    env = Env(ctx, cfg, probes or Probes())
    results: list[CheckResult] = []
    for name, fn in CHECKS:
        if only is not None and name not in only:
            continue
        try:
            results.extend(fn(env))
        except Exception as err:  # a check must never abort the others
            crash = f"{type(err).__name__}: {err}"
            results.append(check(name, FAIL, N_("the check crashed: %(error)s"), error=crash))
    out = {
        "at": ctx.clock.now(),
        "passed": all(r.status in (PASS, SKIP) for r in results),
        "failed": [r.name for r in results if r.status == FAIL],
        "unconfirmed": [r.name for r in results if r.status == UNCONFIRMED],
        "checks": [asdict(r) for r in results],
    }
    write_text_atomic(ctx.layout.selftest, json.dumps(out, indent=2) + "\n")
    return out


def run_selftest_step(ctx: Context, inputs: dict[str, Any]) -> dict[str, Any]:
    """The self-test step: fails (with the failed checks named) when any check fails."""
    result = run_selftest(ctx, ctx.probes)
    if result["failed"]:
        detail = "; ".join(
            f"{c['name']}: {c['detail']}" for c in result["checks"] if c["status"] == FAIL
        )
        raise StepError(
            "selftest_failed",
            f"self-test failed: {detail}",
            "fix each failed check as described in 'kiosk-provision selftest', then "
            "run kiosk-provision again",
        )
    return {"passed": result["passed"], "unconfirmed": result["unconfirmed"]}


def selftest_done(ctx: Context, inputs: dict[str, Any]) -> bool:
    """Done when the last self-test had no failures."""
    try:
        last = json.loads(Path(ctx.layout.selftest).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(last, dict) and not last.get("failed")

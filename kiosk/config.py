"""One strict, typed configuration for the kiosk, loaded from TOML.

Every field carries its unit and range in its description; ``kiosk config check FILE`` turns
validation errors into sentences a technician can act on. Defaults run the demo kiosk.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal, TypeAlias

from pydantic import (
    AfterValidator,
    BaseModel,
    Field,
    ValidationError,
    field_validator,
)

from kiosk import languages
from kiosk.backends import (
    CAMERAS,
    DETECTORS,
    MICROPHONES,
    PIN_FACTORIES,
    PRINTERS,
    ArecordSettings,
    OpenCvSettings,
    ReplaySettings,
    ToneSettings,
)
from kiosk.errors import ConfigError
from kiosk.settings import LaxPath, Order, Section, seconds, setting

REPO_ROOT = Path(__file__).resolve().parent.parent
"""The source checkout (used only to find the development model pack beside it)."""


class DeviceConfig(Section):
    """Who this kiosk is and where it stands."""

    id: str = setting(
        "kiosk-demo-01",
        "Device id: 3-40 chars, lower-case letters, digits and '-'; also the MQTT client id and "
        "the topic segment",
    )
    village_code: str = setting(
        "35.10.01.2001", "Kemendagri village code, 10 digits, dots optional (e.g. 35.10.01.2001)"
    )
    name: str = setting("Kantor Desa (demo)", "Human name of the kiosk's site", max_length=80)
    dusun: list[str] = setting(
        [],
        "The village's dusun (hamlets), 1-40 characters each, at most 60: the household form "
        "offers them to choose from (the portal's signed village list wins when the kiosk has "
        "one); empty: the person types the name",
        max_length=60,
    )

    @field_validator("id")
    @classmethod
    def _id(cls, value: str) -> str:
        if not re.fullmatch(r"[a-z0-9][a-z0-9-]{2,39}", value):
            raise ValueError(
                "must be 3-40 characters of lower-case letters, digits and '-', "
                "starting with a letter or digit (e.g. kiosk-3510012001-01)"
            )
        return value

    @field_validator("dusun")
    @classmethod
    def _dusun(cls, value: list[str]) -> list[str]:
        names = [" ".join(v.split()) for v in value]
        if any(not 1 <= len(n) <= 40 for n in names):
            raise ValueError("each dusun name must be 1-40 characters (e.g. 'Krajan')")
        if len({n.casefold() for n in names}) != len(names):
            raise ValueError("a dusun is named twice")
        return names

    @field_validator("village_code")
    @classmethod
    def _village_code(cls, value: str) -> str:
        digits = re.sub(r"[.\s-]", "", value)
        if not re.fullmatch(r"\d{10}", digits):
            raise ValueError(
                "must be a 10-digit Kemendagri village code like 35.10.01.2001 "
                "(province.regency.district.village)"
            )
        return digits


class PathsConfig(Section):
    """Where the kiosk keeps its state and finds its models."""

    data_dir: LaxPath = setting(
        Path("var/kiosk"), "Writable state: database, keys, logs. Must be persistent storage"
    )
    models_dir: LaxPath | None = setting(
        None,
        "Model pack directory with SHA256SUMS. Empty: <data_dir>/models if provisioned, else the "
        "development pack ../shared/models beside the checkout",
    )
    require_persistent: bool = setting(
        False, "Refuse to start when data_dir is on tmpfs/overlay (true on devices)"
    )
    min_free_mib: int = setting(
        50,
        "Free space on the data partition a new registration needs, MiB (checked when a session "
        "starts and again before it is saved)",
        ge=1,
        le=1_048_576,
    )

    def resolved_models_dir(self) -> Path:
        """The model pack directory to use, following the documented fallback order."""
        if self.models_dir is not None:
            return self.models_dir
        provisioned = self.data_dir / "models"
        if (provisioned / "SHA256SUMS").is_file():
            return provisioned
        return REPO_ROOT.parent / "shared" / "models"


if TYPE_CHECKING:  # the choices are the registries' rows (kiosk/backends.py)
    CameraBackendName: TypeAlias = str
    DetectorName: TypeAlias = str
    PinFactoryName: TypeAlias = str
    PrinterName: TypeAlias = str
    MicrophoneName: TypeAlias = str
else:
    CameraBackendName = CAMERAS.literal()
    DetectorName = DETECTORS.literal()
    PinFactoryName = PIN_FACTORIES.literal()
    PrinterName = PRINTERS.literal()
    MicrophoneName = MICROPHONES.literal()


class CameraConfig(OpenCvSettings, ReplaySettings):
    """Camera backend and capture format (each backend's own settings come from its model)."""

    backend: CameraBackendName = setting("auto", CAMERAS.describe())
    width: int = setting(640, "Frame width, pixels", ge=160, le=4096)
    height: int = setting(480, "Frame height, pixels", ge=120, le=3072)
    fps: float = setting(15.0, "Frames per second requested", gt=0, le=60)
    stall_timeout_s: float = seconds(
        3.0, "No frame for this long means the camera is dead", gt=0, le=60
    )


class MicrophoneConfig(ArecordSettings, ToneSettings):
    """The microphone for spoken notes (each backend's own settings come from its model)."""

    backend: MicrophoneName = setting("auto", MICROPHONES.describe())
    max_seconds: int = seconds(60, "Longest spoken note (the recording stops there)", ge=5, le=60)


class TlsConfig(Section):
    """TLS material for the broker connection (PEM files)."""

    ca_file: Annotated[LaxPath, Field(description="CA bundle that signed the broker, PEM")]
    cert_file: Annotated[LaxPath, Field(description="This device's client certificate, PEM")]
    key_file: Annotated[LaxPath, Field(description="This device's private key, PEM")]


class UplinkConfig(Section):
    """MQTT link to the portal."""

    enabled: bool = setting(True, "false: registrations wait in the outbox")
    host: str = setting("127.0.0.1", "Broker host name or IP", min_length=1)
    port: int = setting(1883, "Broker TCP port", ge=1, le=65535)
    tls: TlsConfig | None = setting(None, "TLS files; empty = plain TCP")
    topic_prefix: str = setting(
        "perlinsos/v1",
        "Topic prefix; the device topics are <prefix>/kiosk/<device_id>/...",
        pattern=r"^[A-Za-z0-9_-]+(/[A-Za-z0-9_-]+)*$",
    )
    protocol: Literal["5", "3.1.1"] = setting(
        "5",
        'MQTT version: "5" (Mosquitto) or "3.1.1" (RabbitMQ 3.10, NATS 2.9); correctness is the '
        "same in both (docs/protocol.md)",
    )
    keepalive_s: int = seconds(
        10, "MQTT keep-alive; a dead link is noticed within twice this", ge=5, le=3600
    )
    portal_public_key: LaxPath | None = setting(
        None, "Portal's X25519/EC public key (PEM) that records are sealed to"
    )
    inflight_window: int = setting(
        64, "Records published but not yet acked, at most", ge=1, le=1000
    )
    backoff_initial_s: float = seconds(
        1.0, "First retry delay after a transport failure", gt=0, le=60
    )
    backoff_max_s: float = seconds(300.0, "Cap on the retry delay", gt=0, le=3600)
    ack_timeout_s: float = seconds(
        60.0, "Resend a sent record not acked after this", gt=0, le=86400
    )
    retention_days: float = setting(
        7.0, "Keep acked records this long, then purge", unit="days", ge=0, le=365
    )
    heartbeat_s: float = seconds(60.0, "Heartbeat interval", ge=5, le=3600)

    ORDERS = (
        Order(
            "backoff_initial_s", "backoff_max_s", "backoff_max_s must be at least backoff_initial_s"
        ),
    )


class UiConfig(Section):
    """The touch screen's web UI."""

    host: Literal["127.0.0.1", "::1", "localhost"] = setting(
        "127.0.0.1", "Listen address: loopback only, the kiosk browser is local"
    )
    port: int = setting(8080, "HTTP port", ge=1024, le=65535)
    language: Annotated[str, AfterValidator(languages.check_code)] = setting(
        languages.DEFAULT, f"Default language, one of the registry's: {', '.join(languages.CODES)}"
    )
    inactivity_warning_s: float = seconds(
        60.0, "Idle time before 'Do you need more time?'", ge=10, le=600
    )
    inactivity_grace_s: float = seconds(
        30.0, "After the warning, idle time before the session ends", ge=5, le=600
    )
    speech: bool = setting(True, "Speak every prompt with espeak-ng")
    printer: LaxPath | None = setting(None, "ESC/POS receipt printer device, e.g. /dev/usb/lp0")
    printer_backend: PrinterName = setting("escpos", "Receipt printer: " + PRINTERS.describe())


_MATCH_ORDER = "thresholds must satisfy match_high >= match_medium >= match_low"


class BiometricsConfig(Section):
    """Face matching and liveness thresholds (cosine similarity and probabilities, 0..1)."""

    match_high: float = setting(0.52, "Cosine similarity at or above: HIGH band", ge=-1, le=1)
    match_medium: float = setting(0.50, "Cosine similarity at or above: MEDIUM band", ge=-1, le=1)
    match_low: float = setting(0.35, "Cosine similarity at or above: LOW band", ge=-1, le=1)
    liveness_live: float = setting(0.95, "Passive liveness score at or above: live", ge=0, le=1)
    liveness_spoof: float = setting(
        0.0, "Below: spoof; between this and liveness_live: step-up", ge=0, le=1
    )
    retry_budget: int = setting(3, "Face attempts before the agent path is offered", ge=1, le=10)
    liveness_passive_only: float = setting(
        0.97,
        "Fused passive liveness score at or above which no active challenge is asked; below it "
        "(even when live) a blink or head turn is required",
        ge=0,
        le=1,
    )
    liveness_frames: int = setting(
        5, "Good frames whose passive liveness is fused (median)", ge=1, le=15
    )
    capture_timeout_s: float = seconds(
        12.0,
        "Coaching phase of one attempt: after this many seconds the best usable frame is decided "
        "on (with a challenge) or the attempt ends",
        ge=3,
        le=300,
    )
    strategy_after_s: float = seconds(
        3.0,
        "A problem that persists this long changes strategy (face light on, then 'move closer')",
        ge=0.5,
        le=60,
    )
    challenge_timeout_s: float = seconds(
        10.0, "Time for one active challenge (blink/turn)", ge=3, le=60
    )
    decision_timeout_s: float = seconds(
        35.0, "Hard bound from 'Ambil foto' to a decision, challenges included", ge=5, le=600
    )
    id_card: bool = setting(
        True,
        "Ask for the e-KTP when the village set has no reference for the NIK: the card's photo "
        "becomes the reference of the face check (its outcome is always pending, for the portal "
        "to confirm); the card is held in memory only",
    )
    detector: DetectorName = setting("litert", "Face detector: " + DETECTORS.describe())
    policy: list[dict[str, str]] = setting(
        [],
        "Decision policy rows {source, match, liveness, outcome, why}, first match wins, must "
        "cover every case; empty = the default table of docs/decision-policy.md",
    )

    @field_validator("policy")
    @classmethod
    def _policy(cls, value: list[dict[str, str]]) -> list[dict[str, str]]:
        from kiosk.core.policy import policy_from_rows

        policy_from_rows(value)  # raises ValueError naming the bad row or the missing case
        return value

    ORDERS = (
        Order("match_medium", "match_high", _MATCH_ORDER),
        Order("match_low", "match_medium", _MATCH_ORDER),
        Order("liveness_spoof", "liveness_live", "liveness_spoof must not exceed liveness_live"),
        Order(
            "liveness_live",
            "liveness_passive_only",
            "liveness_passive_only must not be below liveness_live",
        ),
        Order(
            "capture_timeout_s",
            "decision_timeout_s",
            "decision_timeout_s must be at least capture_timeout_s",
        ),
    )


class GpioConfig(Section):
    """Peripherals on the Pi's header (BCM numbering); roles are defined in firmware/."""

    pin_factory: PinFactoryName = setting("auto", PIN_FACTORIES.describe())
    pins: dict[str, int] = setting({}, "Role -> BCM pin overrides, e.g. {help_button = 17}")
    active_high: dict[str, bool] = setting(
        {}, "Role -> polarity overrides, e.g. {face_light = false} (active-low)"
    )
    absent: list[str] = setting(
        [], "Optional roles not fitted on this kiosk, e.g. ['buzzer', 'face_light']"
    )
    presence_timeout_s: float = seconds(
        90.0, "No motion for this long ends an abandoned session", ge=5, le=3600
    )
    offline_flash_every_s: float = seconds(
        3.0, "Offline (queue waiting) LED: time between its short flashes", ge=1, le=30
    )
    help_hold_cancel_s: float = seconds(
        3.0, "Holding the help button this long cancels the call", ge=1, le=30
    )

    @field_validator("pins")
    @classmethod
    def _pins(cls, value: dict[str, int]) -> dict[str, int]:
        for role, pin in value.items():
            if not 2 <= pin <= 27:
                raise ValueError(f"pin for {role!r} must be a BCM GPIO number 2..27, got {pin}")
        if len(set(value.values())) != len(value):
            raise ValueError("two roles share one pin")
        return value


class AgentsConfig(Section):
    """Agent sessions and the PIN throttle (seconds; failures are counted per agent)."""

    session_idle_s: float = seconds(
        300.0, "No action for this long ends an agent session", ge=30, le=3600
    )
    session_max_s: float = seconds(3600.0, "An agent session never lasts longer", ge=300, le=43200)
    face_step_s: float = seconds(
        120.0, "Time from a correct PIN to the agent's face check", ge=30, le=600
    )
    audit_flush_s: float = seconds(
        300.0, "New audit entries are queued for the portal this often", ge=10, le=3600
    )
    pin_free_failures: int = setting(
        5, "Wrong PINs allowed before any waiting is imposed", ge=1, le=20
    )
    pin_base_delay_s: float = seconds(
        30.0, "First wait once the free PINs are used up (doubles each time)", ge=1, le=3600
    )
    pin_max_delay_s: float = seconds(
        3600.0, "Longest wait the PIN throttle imposes", ge=1, le=86400
    )
    roster_cap: int = setting(
        10, "Households one Dasa Wisma cadre may hold on the kiosk (count, max 30)", ge=1, le=30
    )
    upkeep_after_days: int = setting(
        30,
        "A roster household not updated for this many days is listed as due",
        unit="days",
        ge=1,
        le=365,
    )
    office_days: list[Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]] = setting(
        ["mon", "tue", "wed", "thu", "fri"],
        "Days the village office is open (told when no agent is on duty)",
        min_length=1,
        max_length=7,
    )
    office_open: str = setting(
        "08:00",
        "Office opening time, local 24-hour HH:MM (told when no agent is on duty)",
        pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$",
    )
    office_close: str = setting(
        "15:00",
        "Office closing time, local 24-hour HH:MM, after office_open",
        pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$",
    )

    ORDERS = (
        Order(
            "office_open",
            "office_close",
            "office_close must be later than office_open (HH:MM)",
            strict=True,
        ),
        Order("session_idle_s", "session_max_s", "session_idle_s must not exceed session_max_s"),
        Order(
            "pin_base_delay_s",
            "pin_max_delay_s",
            "pin_max_delay_s must be at least pin_base_delay_s",
        ),
    )


class UsbConfig(Section):
    """The USB stick that carries the sealed backlog to the portal when there is no network."""

    mount_point: LaxPath = setting(
        Path("/media/usb"), "Where the stick is mounted (udisks/automount), e.g. /media/usb"
    )
    require_mount: bool = setting(
        True,
        "Refuse a mount_point that is not a mounted file system (so an export never lands on the "
        "SD card when no stick is in); false only for tests and demos",
    )

    @field_validator("mount_point")
    @classmethod
    def _absolute(cls, value: Path) -> Path:
        if not value.is_absolute():
            raise ValueError("must be an absolute path such as /media/usb")
        return value


class KioskConfig(Section):
    """The whole configuration of one kiosk."""

    device: DeviceConfig = DeviceConfig()
    paths: PathsConfig = PathsConfig()
    camera: CameraConfig = CameraConfig()
    microphone: MicrophoneConfig = MicrophoneConfig()
    uplink: UplinkConfig = UplinkConfig()
    ui: UiConfig = UiConfig()
    biometrics: BiometricsConfig = BiometricsConfig()
    agents: AgentsConfig = AgentsConfig()
    gpio: GpioConfig = GpioConfig()
    usb: UsbConfig = UsbConfig()


def _describe(err: dict[str, Any]) -> str:
    """One technician-readable sentence for one pydantic error."""
    where = ".".join(str(p) for p in err["loc"]) or "(file)"
    kind = err["type"]
    value = err.get("input")
    if kind == "extra_forbidden":
        return f"{where}: unknown setting (check the spelling; allowed names are in README.md)"
    if kind == "missing":
        return f"{where}: required setting is missing"
    msg = str(err["msg"]).removeprefix("Value error, ")
    shown = repr(value) if not isinstance(value, dict) else "(a table)"
    hint = _TYPE_HINTS.get(kind)
    if hint is not None and isinstance(value, str):
        msg = f"{msg}; {hint}"
    return f"{where} = {shown}: {msg}"


_TYPE_HINTS = {
    "bool_type": "write true or false, without quotes",
    "int_type": "write a whole number without quotes, e.g. 30",
    "float_type": "write a number without quotes, e.g. 60 or 2.5",
}
"""Strict-mode errors for a quoted value: say how to write it in TOML."""


def parse_config(data: dict[str, Any], base_dir: Path | None = None) -> KioskConfig:
    """Validate a config mapping; relative paths are resolved against ``base_dir``."""
    try:
        cfg = KioskConfig.model_validate(data)
    except ValidationError as err:
        problems = [_describe(e) for e in err.errors()]  # type: ignore[arg-type]
        raise ConfigError(
            f"{len(problems)} problem(s) in the configuration", problems=problems
        ) from err
    return _resolve_paths(cfg, base_dir) if base_dir is not None else cfg


def _resolve_paths(cfg: KioskConfig, base: Path) -> KioskConfig:
    def fix(p: Path | None) -> Path | None:
        return p if p is None or p.is_absolute() else (base / p)

    paths = cfg.paths.model_copy(
        update={"data_dir": fix(cfg.paths.data_dir), "models_dir": fix(cfg.paths.models_dir)}
    )
    camera = cfg.camera.model_copy(update={"replay_source": fix(cfg.camera.replay_source)})
    uplink_update: dict[str, Any] = {"portal_public_key": fix(cfg.uplink.portal_public_key)}
    if cfg.uplink.tls is not None:
        t = cfg.uplink.tls
        uplink_update["tls"] = t.model_copy(
            update={
                "ca_file": fix(t.ca_file),
                "cert_file": fix(t.cert_file),
                "key_file": fix(t.key_file),
            }
        )
    uplink = cfg.uplink.model_copy(update=uplink_update)
    return cfg.model_copy(update={"paths": paths, "camera": camera, "uplink": uplink})


def load_config(path: Path | None) -> KioskConfig:
    """Load and validate a TOML config file; ``None`` gives the demo defaults."""
    if path is None:
        return KioskConfig()
    try:
        raw = path.read_bytes()
    except FileNotFoundError as err:
        raise ConfigError(f"config file not found: {path}", [f"{path}: no such file"]) from err
    except OSError as err:
        raise ConfigError(f"cannot read config file {path}: {err.strerror}") from err
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as err:
        raise ConfigError(f"{path} is not UTF-8 text", [f"{path}: not UTF-8 text"]) from err
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(
            f"{path} is not valid TOML", [f"{path}: TOML syntax error: {err}"]
        ) from err
    return parse_config(data, base_dir=path.resolve().parent)


def reference_markdown() -> str:
    """The configuration reference (every section and field) as Markdown, from the model."""
    lines = [
        "# Configuration reference",
        "",
        "Generated by `kiosk config reference`; do not edit.",
        "",
    ]
    lines.append("Every setting is optional; the defaults run the demo kiosk. Unknown names are")
    lines.append("rejected. Relative paths are resolved against the config file's folder.")
    for section, field in KioskConfig.model_fields.items():
        model = field.annotation
        assert isinstance(model, type) and issubclass(model, BaseModel)
        lines += ["", f"## [{section}]", "", (model.__doc__ or "").strip(), ""]
        lines += ["| setting | default | meaning |", "|---|---|---|"]
        for name, sub in model.model_fields.items():
            default = (
                "(required)"
                if sub.is_required()
                else _show_default(sub.get_default(call_default_factory=True))
            )
            lines.append(f"| `{name}` | `{default}` | {sub.description or ''} |")
    return "\n".join(lines) + "\n"


def _show_default(value: Any) -> str:
    if value is None:
        return "(empty)"
    if isinstance(value, BaseModel):
        return "(table)"
    return str(value)

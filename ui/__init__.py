"""The kiosk's touch UI: a Flask app factory taking already-built services.

``create_app`` never builds a service itself; the composition root (``kiosk.app``) passes them
in. Optional extras may be left out and the screens say what they do without them (see
:mod:`ui.ports`). Serve only with :func:`serve` (waitress on loopback; debug refused).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask import Flask, request, session
from flask_babel import Babel

from kiosk.config import KioskConfig
from kiosk.core.session import Timeouts
from kiosk.errors import ConfigError
from kiosk.languages import CATALOGUES, language
from kiosk.languages import CODES as LANGUAGE_CODES
from kiosk.languages import DEFAULT as DEFAULT_LANGUAGE
from kiosk.services.objection import ObjectionService
from kiosk.services.ports import ReceiptPrinter, SpeechSynth
from kiosk.services.registration import RegistrationService
from kiosk.services.status import StatusService
from kiosk.services.voice import VoiceRecorder
from ui.ports import AgentCaller, LiveView, PendingCount, Presence, QrReader
from ui.security import harden

log = logging.getLogger(__name__)

LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost"})
UI_DIR = Path(__file__).resolve().parent


@dataclass
class UiServices:
    """Everything the views use, stored on ``app.extensions['kiosk_ui']``."""

    registration: RegistrationService
    cfg: KioskConfig
    form: Any = None
    consent: Any = None
    status: StatusService | None = None
    speech: SpeechSynth | None = None
    printer: ReceiptPrinter | None = None
    live: LiveView | None = None
    qr: QrReader | None = None
    presence: Presence | None = None
    agent: AgentCaller | None = None
    pending: PendingCount | None = None
    agents: Any = None  # kiosk.agents.AgentService: agent mode (ui/agent)
    objections: ObjectionService | None = None  # objections (sanggah) from the status check
    voice: VoiceRecorder | None = None  # spoken notes (kiosk.services.voice)
    languages: tuple[str, ...] = LANGUAGE_CODES
    extra: dict[str, Any] = field(default_factory=dict)
    choices: Callable[[], Mapping[str, tuple[str, ...]]] | None = None  # the village's lists

    def questionnaire(self) -> Any:
        """The questionnaire as the screens ask it now: ``choices_from`` questions offer the
        village's current lists (its dusun), typed where the kiosk has none."""
        return self.form.with_choices(self.choices()) if self.choices else self.form

    @property
    def timeouts(self) -> Timeouts:
        """Inactivity limits from the configuration."""
        return Timeouts(self.cfg.ui.inactivity_warning_s, self.cfg.ui.inactivity_grace_s)


def create_app(
    *,
    registration: RegistrationService,
    cfg: KioskConfig,
    form: Any = None,
    consent: Any = None,
    status: StatusService | None = None,
    speech: SpeechSynth | None = None,
    printer: ReceiptPrinter | None = None,
    live: LiveView | None = None,
    qr: QrReader | None = None,
    presence: Presence | None = None,
    agent: AgentCaller | None = None,
    pending: PendingCount | None = None,
    secret_key: bytes | None = None,
    agents: Any = None,
    objections: ObjectionService | None = None,
    voice: VoiceRecorder | None = None,
    usb: Any = None,
    community: Any = None,
    choices: Callable[[], Mapping[str, tuple[str, ...]]] | None = None,
) -> Flask:
    """Build the UI around the given services.

    ``form`` is the questionnaire definition and ``consent`` the consent text definition
    (``kiosk.core.forms``); without them the shipped defaults are loaded. ``status`` enables
    the status check; ``speech`` speaks prompts; ``printer`` prints receipts; ``live`` gives
    the capture screen its preview and coaching; ``qr`` enables identifying by the IKD QR code;
    ``presence`` wakes the attract screen; ``agent`` calls a human; ``pending`` shows how many
    records wait for the network; ``agents`` (a ``kiosk.agents.AgentService``) enables agent
    mode under ``/agent``; ``usb`` (a ``kiosk.usb.service.UsbService``) the USB stick screen
    under ``/usb``; ``community`` (a ``kiosk.reports.service.CommunityService``) the recipient
    list, reports, proposals and the meeting report under ``/agent``; ``voice`` (a
    ``kiosk.services.voice.VoiceRecorder``) the spoken notes on those screens; ``choices`` the
    village's run-time lists the questionnaire offers (``{"dusun": names}``).
    """
    from ui.agent import bp as agent_bp
    from ui.forms_view import default_consent, default_form
    from ui.villager import bp as villager_bp

    app = Flask(__name__, static_folder="static", template_folder="templates")
    if os.environ.get("FLASK_DEBUG") not in (None, "", "0", "false"):
        raise ConfigError("the kiosk UI refuses to run in debug mode (unset FLASK_DEBUG)")
    harden(app, secret_key)
    languages = LANGUAGE_CODES
    default_lang = cfg.ui.language if cfg.ui.language in languages else DEFAULT_LANGUAGE
    app.config["BABEL_DEFAULT_LOCALE"] = default_lang
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(CATALOGUES)
    app.config["KIOSK_DEFAULT_LANGUAGE"] = default_lang

    def select_locale() -> str:
        lang = session.get("lang")
        return lang if isinstance(lang, str) and lang in languages else default_lang

    Babel(app, locale_selector=select_locale)
    if agent is None and agents is not None:
        from kiosk.agents.service import HelpCaller

        agent = HelpCaller(agents)  # "call an agent" queues a request the agents see
    app.extensions["kiosk_ui"] = UiServices(
        registration=registration,
        cfg=cfg,
        form=form if form is not None else default_form(),
        consent=consent if consent is not None else default_consent(),
        status=status,
        speech=speech,
        printer=printer,
        live=live,
        qr=qr,
        presence=presence,
        agent=agent,
        pending=pending,
        agents=agents,
        objections=objections,
        voice=voice,
        languages=languages,
        extra={k: v for k, v in (("usb", usb), ("community", community)) if v is not None},
        choices=choices,
    )
    app.register_blueprint(villager_bp)
    app.register_blueprint(agent_bp)
    from ui.usb import bp as usb_bp

    app.register_blueprint(usb_bp)
    from ui.technician import register as register_technician

    register_technician(app)  # local technician page (provisioning), password-protected
    from ui.errors import register_error_screens

    register_error_screens(app)  # every KioskError -> a translated, spoken screen; never a 500

    @app.context_processor
    def _globals() -> dict[str, Any]:
        code = select_locale()
        return {"lang": code, "lang_dir": language(code).direction, "path": request.path}

    return app


def services(app: Flask) -> UiServices:
    """The UI's services registered on ``app``."""
    found = app.extensions["kiosk_ui"]
    assert isinstance(found, UiServices)
    return found


def serve(app: Flask, host: str = "127.0.0.1", port: int = 8080, threads: int = 6) -> None:
    """Serve ``app`` with waitress on a loopback address; refuses other hosts and debug."""
    if host not in LOOPBACK:
        raise ConfigError(f"the kiosk UI listens on loopback only, not {host!r}")
    if app.debug:
        raise ConfigError("the kiosk UI refuses to run in debug mode")
    import waitress

    log.info("kiosk UI on http://%s:%d/", host, port)
    waitress.serve(app, host=host, port=port, threads=threads, ident="kiosk")

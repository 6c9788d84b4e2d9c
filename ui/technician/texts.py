# ruff: noqa: E501
"""The technician page's words, through the gettext catalogue (Indonesian first): step names,
states, self-test checks and results, and the fix for each error code. Provisioning itself
keeps its English messages for the console and the report; the page shows these instead."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l

STEP_TITLES: dict[str, Any] = {
    "identity": _l("Device identity (keys, certificate request, certificate)"),
    "village": _l("Village (Kemendagri code, name, location)"),
    "network": _l("Network (broker, TLS, Wi-Fi)"),
    "models": _l("Model pack (checksums, tensor shapes)"),
    "agents": _l("Agent accounts"),
    "selftest": _l("Self-test"),
    "report": _l("Provisioning report (signed, sent to the portal)"),
}
STATES: dict[str, Any] = {
    "done": _l("done"),
    "failed": _l("failed"),
    "waiting": _l("waiting"),
    "not started": _l("not started"),
}
CHECK_RESULTS: dict[str, Any] = {
    "pass": _l("passed"),
    "fail": _l("FAILED"),
    "skip": _l("skipped"),
    "unconfirmed": _l("not confirmed"),
}
CHECK_NAMES: dict[str, Any] = {
    "camera": _l("Camera"),
    "camera_quality": _l("Camera picture"),
    "broker": _l("Portal connection (broker)"),
    "disk": _l("Free disk space"),
    "clock": _l("Clock"),
    "data_partition": _l("Data partition"),
    "camera_face": _l("Face in the camera picture"),
    "models": _l("Model pack"),
    "model_detector": _l("Face detector model"),
    "model_detector_full": _l("Face detector model (far range)"),
    "model_mesh": _l("Face landmark model"),
    "model_embedder": _l("Face code model"),
    "model_fas_v2": _l("Liveness model"),
    "model_fas_v1se": _l("Liveness model (second)"),
    "gpio": _l("Lights and buttons (GPIO)"),
    "gpio_status_led": _l("Green status light"),
    "gpio_fault_led": _l("Red fault light"),
    "gpio_buzzer": _l("Buzzer"),
    "gpio_face_light": _l("Face light"),
    "gpio_help_button": _l("Help button"),
    "gpio_presence": _l("Presence sensor"),
}
CHECK_FIXES: dict[str, Any] = {
    "camera": _l("Reseat the camera cable, remove the lens cap, clean the lens, fix the light."),
    "camera_quality": _l(
        "Reseat the camera cable, remove the lens cap, clean the lens, fix the light."
    ),
    "models": _l("Reinstall the model pack."),
    "camera_face": _l("Reinstall the model pack."),
    "gpio": _l(
        "Check the wiring, gpio.pins and gpio.active_high in kiosk.toml, and the part itself."
    ),
    "broker": _l(
        "Is the identity step done? Is the broker address right? Is the portal running and does it have the device key?"
    ),
    "disk": _l("Use a larger SD card, or free space."),
    "clock": _l("Bring the network up so the clock can synchronise; timedatectl shows the state."),
    "data_partition": _l("The data directory must be on the persistent data partition (/data)."),
}
"""Self-test check (or its family, e.g. ``model_*`` -> ``models``) -> what to do."""

ERROR_FIXES: dict[str, Any] = {
    "certificate_needed": _l(
        "Take device.csr and device_ed25519.pub.pem to the portal and install the device.crt it returns."
    ),
    "identity_missing": _l("Run the identity step with --cert, --ca and --portal-key."),
    "cert_mismatch": _l(
        "Send this kiosk's current device.csr again and install the new certificate."
    ),
    "cert_expired": _l(
        "Ask the portal for a new certificate; if the date shown is wrong, set the clock first."
    ),
    "cert_chain": _l("Use the ca.pem from the same portal that signed the certificate."),
    "village_code": _l("Copy the code from the village letterhead or the Kemendagri list."),
    "kiosk_name": _l("Give the kiosk a name of at most 80 characters."),
    "broker_host": _l("Give the broker host."),
    "broker_unreachable": _l(
        "Check Wi-Fi or cable, host and port, firewall; or configure offline now and run the self-test later."
    ),
    "source_missing": _l("Mount the stick; give the folder that holds SHA256SUMS."),
    "checksum": _l("Copy the model pack again; if it repeats, the stick is damaged."),
    "model_missing": _l("Copy the complete model pack for this software version."),
    "agents_needed": _l("Give the signed agent file, or one agent, or choose no agents."),
    "agent_face": _l("Take a frontal, well-lit photo of the agent and try again."),
    "agent_models": _l("Install the model pack first, then enrol the agents."),
    "selftest_failed": _l("Follow the fix of each failed check, then run the self-test again."),
    "config_invalid": _l("Correct the named value and run the step again."),
}
"""Step error code -> what to do, translated; codes not listed show the console's words."""


def check_fix(name: str) -> Any:
    """The translated fix of a self-test check (``model_detector`` -> the ``models`` fix)."""
    family = name.split("_", 1)[0] if name not in CHECK_FIXES else name
    family = {"model": "models"}.get(family, family)
    return CHECK_FIXES.get(name) or CHECK_FIXES.get(family)


def check_name(name: str) -> str:
    """A self-test check's name in words (the code itself for a check not listed)."""
    found = CHECK_NAMES.get(name)
    return str(found) if found is not None else name

"""Step 5, agents: enrol agent accounts from a file signed by the portal, or one by one.

Signed file (UTF-8 JSON): ``{"format": "perlinsos-agents/1", "device_id": ..., "issued_at": ...,
"agents": [{"id", "role", "name", "pin", "face"?: base64 JPEG/PNG, "template"?: base64}],
"signature": base64 Ed25519}``. The signature covers the canonical JSON (sorted keys, no spaces)
of every field except ``signature``, made with the portal's Ed25519 signing key installed in
the identity step. PINs are hashed on enrolment and never written anywhere else.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from kiosk.errors import InputError, KioskError, ModelError

from .context import Context
from .errors import StepError
from .identity import check_portal_signing_key
from .tomlfile import load_kiosk_config

FORMAT = "perlinsos-agents/1"
MAX_FILE_BYTES = 16 * 1024 * 1024

Embed = Callable[[np.ndarray], bytes]
"""RGB image -> face template bytes (the vision pipeline; injected so tests can stub it)."""


def canonical(body: dict[str, Any]) -> bytes:
    """The bytes that are signed: every field but ``signature``, sorted keys, compact."""
    unsigned = {k: v for k, v in body.items() if k != "signature"}
    return json.dumps(unsigned, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def sign_agent_file(body: dict[str, Any], key: Ed25519PrivateKey) -> dict[str, Any]:
    """Portal side (and tests): the body with its ``signature`` added."""
    return {**body, "signature": base64.b64encode(key.sign(canonical(body))).decode()}


def read_signed_file(path: Path, signing_key_path: Path, device_id: str) -> list[dict[str, Any]]:
    """Verify the file's signature and addressee; return its agent entries."""
    if not signing_key_path.is_file():
        raise StepError(
            "portal_signing_key_missing",
            "the portal's signing key is not installed, so a signed agent file cannot be checked",
            "run the identity step again with --portal-signing-key portal_ed25519.pub.pem",
        )
    key = check_portal_signing_key(signing_key_path.read_bytes(), str(signing_key_path))
    try:
        raw = path.read_bytes()
    except OSError as err:
        raise StepError(
            "agents_file_missing",
            f"cannot read {path}: {err.strerror}",
            "check the path of the agent file on the USB stick",
        ) from err
    bad = StepError(
        "agents_file_invalid",
        f"{path} is not an agent file (expected {FORMAT})",
        "use the agent file the portal exported for this kiosk, unchanged",
    )
    if len(raw) > MAX_FILE_BYTES:
        raise bad
    try:
        body = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as err:
        raise bad from err
    if not isinstance(body, dict) or body.get("format") != FORMAT:
        raise bad
    try:
        sig = base64.b64decode(str(body.get("signature", "")), validate=True)
        key.verify(sig, canonical(body))
    except (binascii.Error, InvalidSignature) as err:
        raise StepError(
            "agents_signature",
            f"the signature of {path} is not valid: the file was changed or is from another portal",
            "export the agent file from the portal again; do not edit it",
        ) from err
    if body.get("device_id") not in (device_id, "*"):
        raise StepError(
            "agents_wrong_device",
            f"the agent file is for kiosk {body.get('device_id')!r}, this is {device_id!r}",
            "export the agent file for this kiosk's device id from the portal",
        )
    agents = body.get("agents")
    if not isinstance(agents, list) or not all(isinstance(a, dict) for a in agents):
        raise bad
    return agents


def _pipeline_embed(ctx: Context) -> Embed:
    """Embedding with the installed model pack (loaded on first use)."""
    cache: dict[str, Any] = {}

    def embed(image: np.ndarray) -> bytes:
        from kiosk.vision.embedder import template_to_bytes
        from kiosk.vision.models import ModelPack
        from kiosk.vision.pipeline import FacePipeline

        if "p" not in cache:
            cache["p"] = FacePipeline(ModelPack.load(ctx.layout.models))
        return template_to_bytes(cache["p"].embed_image(image))

    return embed


def _template(entry: dict[str, Any], embed: Embed, who: str) -> bytes | None:
    from kiosk.vision.images import decode_image, load_image

    try:
        if entry.get("template"):
            return base64.b64decode(str(entry["template"]), validate=True)
        if entry.get("face"):
            return embed(decode_image(base64.b64decode(str(entry["face"]), validate=True)))
        if entry.get("face_file"):
            return embed(load_image(Path(str(entry["face_file"]))))
    except ModelError as err:  # the pack, not the photo: name the real cause
        raise StepError(
            "agent_models",
            f"agent {who}: the face photo cannot be checked because the model pack is missing "
            f"or damaged ({err})",
            "install the model pack first: kiosk-provision models --from /media/usb/models",
        ) from err
    except (binascii.Error, KioskError, ValueError, OSError) as err:
        raise StepError(
            "agent_face",
            f"agent {who}: the face photo has no usable face ({err})",
            "take a new frontal, well-lit photo of the agent and enrol again",
        ) from err
    return None


def enrol_entries(
    ctx: Context,
    entries: list[dict[str, Any]],
    embed: Embed | None = None,
    source: str = "provisioning",
) -> list[str]:
    """Enrol (or update) each agent; all entries are checked before any is written."""
    from kiosk.agents.accounts import ROLES, AgentRepository, check_pin, normalise_agent_id
    from kiosk.crypto.atrest import AtRestCipher, load_or_create_key
    from kiosk.store.db import connect

    embed = embed or _pipeline_embed(ctx)
    prepared = []
    for n, entry in enumerate(entries, 1):
        who = f"#{n}"
        try:
            aid = normalise_agent_id(str(entry.get("id", "")))
            who = aid
            if entry.get("role") not in ROLES:
                raise InputError(f"role must be one of {', '.join(ROLES)}")
            check_pin(str(entry.get("pin", "")))
        except InputError as err:
            raise StepError(
                "agent_invalid",
                f"agent {who}: {err}",
                "correct this agent's entry (or the portal export) and retry",
            ) from err
        prepared.append((aid, entry, _template(entry, embed, who)))
    conn = connect(ctx.layout.database)
    try:
        repo = AgentRepository(
            conn, AtRestCipher(load_or_create_key(ctx.layout.data_key)), ctx.clock
        )
        for aid, entry, template in prepared:
            try:
                repo.enrol(
                    aid,
                    str(entry["role"]),
                    str(entry.get("name") or aid),
                    str(entry["pin"]),
                    template,
                    source=source,
                    replace=True,
                )
            except InputError as err:
                raise StepError(
                    "agent_invalid", f"agent {aid}: {err}", "correct this agent's entry and retry"
                ) from err
    finally:
        conn.close()
    return [aid for aid, _e, _t in prepared]


def enrolled(ctx: Context, agent_ids: list[str]) -> bool:
    """True when every id is an active enrolled agent."""
    if not ctx.layout.database.is_file():
        return False
    from kiosk.agents.accounts import AgentRepository
    from kiosk.crypto.atrest import AtRestCipher, load_or_create_key
    from kiosk.store.db import connect

    conn = connect(ctx.layout.database)
    try:
        repo = AgentRepository(
            conn, AtRestCipher(load_or_create_key(ctx.layout.data_key)), ctx.clock
        )
        return all((a := repo.get(i)) is not None and a.active for i in agent_ids)
    finally:
        conn.close()


def run_agents(ctx: Context, inputs: dict[str, Any]) -> dict[str, Any]:
    """Enrol from ``inputs['file']`` (signed), or one agent from id/role/name/pin/face."""
    if inputs.get("none"):
        return {"agents": [], "note": "no agents enrolled at provisioning"}
    if inputs.get("file"):
        device_id = load_kiosk_config(ctx.layout.config).device.id
        entries = read_signed_file(Path(inputs["file"]), ctx.layout.portal_signing_key, device_id)
        ids = enrol_entries(ctx, entries, source="portal")
        return {"agents": ids, "source": "signed file"}
    if inputs.get("id"):
        if not inputs.get("pin"):
            raise StepError(
                "agent_invalid",
                "no PIN given for the agent",
                "pass --pin (6-12 digits, typed by the agent)",
            )
        entry = {k: inputs.get(k) for k in ("id", "role", "name", "pin")}
        if inputs.get("face"):
            entry["face_file"] = inputs["face"]
        ids = enrol_entries(ctx, [entry])
        return {"agents": ids, "source": "on device"}
    raise StepError(
        "agents_needed",
        "no agents given",
        "pass --file agents.json (signed by the portal), or enrol one with --id --role --name "
        "--pin --face, or --none to enrol agents later",
    )


def agents_done(ctx: Context, inputs: dict[str, Any]) -> bool:
    """Done when the agents of the last run are enrolled (or none were asked for)."""
    if inputs.get("none"):
        return True
    if inputs.get("id"):
        from kiosk.agents.accounts import normalise_agent_id

        try:
            return enrolled(ctx, [normalise_agent_id(str(inputs["id"]))])
        except InputError:
            return False
    if inputs.get("file"):
        try:
            device_id = load_kiosk_config(ctx.layout.config).device.id
            entries = read_signed_file(
                Path(inputs["file"]), ctx.layout.portal_signing_key, device_id
            )
            from kiosk.agents.accounts import normalise_agent_id

            return enrolled(ctx, [normalise_agent_id(str(e.get("id", ""))) for e in entries])
        except (StepError, InputError):
            return False
    return False

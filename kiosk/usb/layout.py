"""The USB stick format shared by the kiosk (export, ack import) and the portal (import).

    <stick>/perlinsos/<device_id>/<export_id>/
        manifest.json                   signed by the device key
        records/<record_id>.sealed      envelope bytes exactly as published over MQTT
        ack.json                        signed by the portal signing key (after the import)

Nothing on the stick is readable without the portal's private key: file names are device ids,
UUIDv7 export/record ids and fixed words. See docs/protocol.md, "USB stick".
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import re
import stat
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from kiosk.crypto.signed import RejectedMessage, sign_message, verify_message

ROOT = "perlinsos"
"""Top folder on the stick (one stick may carry several kiosks' exports)."""
MANIFEST = "manifest.json"
ACK_FILE = "ack.json"
RECORDS = "records"
SUFFIX = ".sealed"
FORMAT_VERSION = 1
MAX_RECORDS = 100_000
"""Records in one export, at most (weeks of a busy village office fit many times over)."""
MAX_RECORD_BYTES = 1024 * 1024
"""One sealed envelope, at most (bytes); the MQTT path allows far less."""
MAX_FILE_BYTES = 64 * 1024 * 1024
"""A manifest or ack file, at most (bytes): refused unread when larger."""

UUID7 = r"^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$"
DEVICE_ID = r"^[a-z0-9][a-z0-9-]{2,39}$"
_SHA256 = r"^[0-9a-f]{64}$"
_SIG = r"^[A-Za-z0-9+/]{86}==$"
M = TypeVar("M", bound=BaseModel)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class ManifestEntry(_Strict):
    """One record on the stick."""

    record_id: Annotated[str, Field(pattern=UUID7)]
    kind: Annotated[str, Field(pattern=r"^[a-z_]{1,40}$")]
    sha256: Annotated[str, Field(pattern=_SHA256)]
    bytes: Annotated[int, Field(ge=1, le=MAX_RECORD_BYTES)]


class Manifest(_Strict):
    """What the kiosk put on the stick, signed by its device key."""

    v: Literal[1]
    kind: Literal["usb_manifest"]
    device_id: Annotated[str, Field(pattern=DEVICE_ID)]
    export_id: Annotated[str, Field(pattern=UUID7)]
    created_at: Annotated[float, Field(ge=0)]
    count: Annotated[int, Field(ge=0, le=MAX_RECORDS)]
    records: Annotated[list[ManifestEntry], Field(max_length=MAX_RECORDS)]
    kid: Annotated[str, Field(min_length=8, max_length=64)]
    sig: Annotated[str, Field(pattern=_SIG)]


class AckEntry(_Strict):
    """The portal's answer for one record of the export."""

    record_id: Annotated[str, Field(pattern=UUID7)]
    result: Literal["stored", "duplicate", "rejected"]
    reason: Annotated[str | None, Field(max_length=500)] = None


class AckFile(_Strict):
    """The portal's signed answer to one export."""

    v: Literal[1]
    kind: Literal["usb_ack"]
    device_id: Annotated[str, Field(pattern=DEVICE_ID)]
    export_id: Annotated[str, Field(pattern=UUID7)]
    manifest_sha256: Annotated[str, Field(pattern=_SHA256)]
    issued_at: Annotated[float, Field(ge=0)]
    acks: Annotated[list[AckEntry], Field(max_length=MAX_RECORDS)]
    kid: Annotated[str, Field(min_length=8, max_length=64)]
    sig: Annotated[str, Field(pattern=_SIG)]


class StickRefused(RejectedMessage):
    """A manifest, record or ack file on the stick was refused; ``reason`` is a short code."""


# --- paths ------------------------------------------------------------------------------------


def device_dir(stick: Path, device_id: str) -> Path:
    """Where one kiosk's exports live on the stick."""
    return stick / ROOT / device_id


def record_path(export_dir: Path, record_id: str) -> Path:
    """The file holding one sealed record."""
    return export_dir / RECORDS / f"{record_id}{SUFFIX}"


def export_dirs(stick: Path, device_id: str | None = None) -> list[Path]:
    """Finished exports on the stick (of ``device_id``, else of every kiosk), oldest first;
    temp folders of an interrupted export are skipped."""
    root = stick / ROOT
    if not root.is_dir():
        return []
    found = [
        e
        for d in root.iterdir()
        if d.is_dir()
        and not d.is_symlink()
        and re.fullmatch(DEVICE_ID[1:-1], d.name)
        and (device_id is None or d.name == device_id)
        for e in d.iterdir()
        if e.is_dir() and not e.is_symlink() and re.fullmatch(UUID7[1:-1], e.name)
    ]
    return sorted(found, key=lambda p: p.name)


# --- reading ----------------------------------------------------------------------------------


def sha256_hex(data: bytes) -> str:
    """Lower-case hex SHA-256."""
    return hashlib.sha256(data).hexdigest()


def read_bounded(path: Path, limit: int = MAX_FILE_BYTES) -> bytes:
    """The bytes of ``path``; :class:`StickRefused` when missing, unreadable or too large."""
    if any(p.is_symlink() for p in (path.parent, path.parent.parent)):
        raise StickRefused("not_a_file", f"{path.parent.name} is a link, not a folder")
    try:
        # never follow a link: a hostile stick must not make us read the host's own files
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except FileNotFoundError as err:
        raise StickRefused("missing", f"{path.name} is not on the stick") from err
    except OSError as err:
        if err.errno == errno.ELOOP:
            raise StickRefused("not_a_file", f"{path.name} is a link, not a file") from err
        raise StickRefused("unreadable", f"{path.name}: {err.strerror}") from err
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise StickRefused("not_a_file", f"{path.name} is not a regular file")
        if info.st_size > limit:
            raise StickRefused("too_large", f"{path.name} is {info.st_size} bytes (limit {limit})")
        with os.fdopen(fd, "rb", closefd=False) as fh:
            data = fh.read(limit + 1)
    except OSError as err:
        raise StickRefused("unreadable", f"{path.name}: {err.strerror}") from err
    finally:
        os.close(fd)
    if len(data) > limit:
        raise StickRefused("too_large", f"{path.name} grew past {limit} bytes while read")
    return data


def _json(data: bytes, what: str) -> dict[str, Any]:
    try:
        body = json.loads(data)
    except (ValueError, RecursionError) as err:  # cut short, or a nesting bomb
        raise StickRefused("truncated", f"{what} is not complete JSON (cut short?)") from err
    if not isinstance(body, dict):
        raise StickRefused("malformed", f"{what} is not a JSON object")
    return body


def _model(model: type[M], body: Mapping[str, Any], what: str) -> M:
    try:
        return model.model_validate(body)
    except ValidationError as err:
        first = err.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise StickRefused("malformed", f"{what}: {where}: {first['msg']}") from err


def parse_manifest(data: bytes, device_key: Ed25519PublicKey | None = None) -> Manifest:
    """Check a manifest's shape, count and (given the device key) signature."""
    body = _json(data, MANIFEST)
    manifest = _model(Manifest, body, MANIFEST)
    if device_key is not None:
        _verify(body, [device_key], "bad_manifest_signature")
    if manifest.count != len(manifest.records):
        raise StickRefused("malformed", "manifest count does not match its record list")
    if len({r.record_id for r in manifest.records}) != len(manifest.records):
        raise StickRefused("malformed", "manifest lists a record twice")
    return manifest


def parse_ack_file(data: bytes, trusted: Iterable[Ed25519PublicKey]) -> AckFile:
    """Check an ack file's shape and its portal signature (any trusted portal key)."""
    body = _json(data, ACK_FILE)
    ack = _model(AckFile, body, ACK_FILE)
    _verify(body, trusted, None)
    return ack


def _verify(body: Mapping[str, Any], keys: Iterable[Ed25519PublicKey], reason: str | None) -> None:
    try:
        verify_message(body, keys)
    except RejectedMessage as err:
        raise StickRefused(reason or err.reason, str(err)) from err


# --- signing ----------------------------------------------------------------------------------


def sign_manifest(body: Mapping[str, Any], device_key: Ed25519PrivateKey) -> bytes:
    """The manifest bytes: ``body`` + kid + Ed25519 signature by the device key."""
    return sign_message({**body, "v": FORMAT_VERSION, "kind": "usb_manifest"}, device_key)


def sign_ack_file(body: Mapping[str, Any], portal_key: Ed25519PrivateKey) -> bytes:
    """The ack file bytes: ``body`` + kid + Ed25519 signature by the portal signing key."""
    return sign_message({**body, "v": FORMAT_VERSION, "kind": "usb_ack"}, portal_key)

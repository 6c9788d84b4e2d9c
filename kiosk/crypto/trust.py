"""The portal signing keys a kiosk trusts: every ``portal_ed25519*.pub.pem`` in its key folder.

``portal_ed25519.pub.pem`` is the current key (installed at provisioning); during a key
change-over the next one is installed beside it (``portal_ed25519.next.pub.pem``) so messages
signed by either verify, and the old file is removed once the portal signs only with the new.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from kiosk.crypto.keys import load_pem_key
from kiosk.errors import CryptoError

log = logging.getLogger(__name__)

DEMO_PORTAL_DIR = "demo-portal"
"""Under ``<data_dir>``: the demo portal's keys (development and demo only, never provisioned)."""

PATTERN = "portal_ed25519*.pub.pem"
"""Trusted portal signing keys in a key folder (current and, during rotation, next)."""


def load_signing_public_key(path: Path) -> Ed25519PublicKey:
    """Load an Ed25519 public key (PEM) that portal messages must be signed with."""
    key: Ed25519PublicKey = load_pem_key(path, "portal signing key", Ed25519PublicKey)
    return key


def trusted_key_files(folder: Path) -> list[Path]:
    """The trusted key files in ``folder``, sorted (none when the folder does not exist)."""
    try:
        return sorted(p for p in folder.glob(PATTERN) if p.is_file())
    except OSError:
        return []


def load_trusted(folders: Iterable[Path]) -> list[Ed25519PublicKey]:
    """Every readable trusted key in ``folders``; an unreadable file is logged and skipped."""
    keys: list[Ed25519PublicKey] = []
    for folder in folders:
        for path in trusted_key_files(folder):
            try:
                keys.append(load_signing_public_key(path))
            except CryptoError as err:
                log.error("portal signing key skipped: %s", err)
    return keys


class TrustedKeys:
    """``trusted()`` for the hot path (one call per ack): the keys, re-read when a key file
    changes; the folders are looked at no more than once per ``recheck_s``."""

    def __init__(
        self,
        folders: Sequence[Path],
        *,
        recheck_s: float = 2.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._folders = tuple(folders)
        self._stamp: tuple[tuple[str, float], ...] | None = None
        self._keys: list[Ed25519PublicKey] = []
        self._lock = threading.Lock()
        self._recheck_s = recheck_s
        self._monotonic = monotonic
        self._checked_at = float("-inf")

    def _current_stamp(self) -> tuple[tuple[str, float], ...]:
        out = []
        for folder in self._folders:
            for path in trusted_key_files(folder):
                try:
                    out.append((str(path), path.stat().st_mtime))
                except OSError:
                    continue
        return tuple(out)

    def __call__(self) -> list[Ed25519PublicKey]:
        """The trusted keys now (a rotation is picked up within ``recheck_s``)."""
        with self._lock:
            now = self._monotonic()
            if now - self._checked_at >= self._recheck_s:
                self._checked_at = now
                stamp = self._current_stamp()
                if stamp != self._stamp:
                    self._keys = load_trusted(self._folders)
                    self._stamp = stamp
            return list(self._keys)

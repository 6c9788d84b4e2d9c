"""The demo portal key pair: for the demo and development only, never on a provisioned kiosk."""

from __future__ import annotations

import logging

from kiosk.config import KioskConfig
from kiosk.crypto.trust import DEMO_PORTAL_DIR

log = logging.getLogger(__name__)

__all__ = ["DEMO_PORTAL_DIR", "demo_portal_key"]


def demo_portal_key(cfg: KioskConfig) -> KioskConfig:
    """With no portal key configured, make (once) a demo portal key pair and use its public key.

    This is for the demo and development only: the private halves sit beside the data so the
    reference portal receiver (``portal/``) can open the records and sign its replies (the
    kiosk trusts the demo signing key only while it seals to the demo portal). Provisioning
    installs the real portal's public keys.
    """
    if cfg.uplink.portal_public_key is not None:
        return cfg
    from kiosk.crypto.keys import generate_portal_key, public_pem, write_private_key

    folder = cfg.paths.data_dir / DEMO_PORTAL_DIR
    private, public = folder / "portal_x25519.pem", folder / "portal_x25519.pub.pem"
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    if not public.is_file():
        key = generate_portal_key()
        write_private_key(private, key)
        tmp = public.with_suffix(".tmp")
        tmp.write_bytes(public_pem(key))
        tmp.replace(public)
        log.warning("DEMO: no portal key configured; records are sealed to a demo portal key")
    signing_public = folder / "portal_ed25519.pub.pem"
    if not signing_public.is_file():  # the demo portal's reply-signing key
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

        signing = Ed25519PrivateKey.generate()
        write_private_key(folder / "portal_ed25519.pem", signing)
        tmp = signing_public.with_suffix(".tmp")
        tmp.write_bytes(public_pem(signing))
        tmp.replace(signing_public)
    uplink = cfg.uplink.model_copy(update={"portal_public_key": public})
    return cfg.model_copy(update={"uplink": uplink})

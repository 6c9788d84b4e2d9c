"""Where provisioning keeps everything under the data directory (one table, one place)."""

from __future__ import annotations

from pathlib import Path

from kiosk.crypto.keys import device_key_path

CONFIG_NAME = "kiosk.toml"
PROVISIONING_DIR = "provisioning"
KEYS_DIR = "keys"


class Layout:
    """Paths of one kiosk's provisioned state under ``data_dir``."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir

    @property
    def config(self) -> Path:
        """The TOML config the kiosk runs with."""
        return self.data_dir / CONFIG_NAME

    @property
    def prov(self) -> Path:
        """Provisioning state, CSR and reports."""
        return self.data_dir / PROVISIONING_DIR

    @property
    def state(self) -> Path:
        """The resumable step state (JSON)."""
        return self.prov / "state.json"

    @property
    def keys(self) -> Path:
        """Private keys and installed certificates (0700)."""
        return self.data_dir / KEYS_DIR

    @property
    def device_key(self) -> Path:
        """The device's Ed25519 signing key (made on the device, never leaves it)."""
        return device_key_path(self.data_dir)

    @property
    def tls_key(self) -> Path:
        """The device's EC P-256 TLS client key (made on the device, never leaves it)."""
        return self.keys / "tls_client.key"

    @property
    def data_key(self) -> Path:
        """The at-rest data key (see kiosk.crypto.atrest)."""
        return self.keys / "data.key"

    @property
    def csr(self) -> Path:
        """The certificate signing request to take to the portal CA."""
        return self.prov / "device.csr"

    @property
    def cert(self) -> Path:
        """The installed device TLS certificate."""
        return self.keys / "device.crt"

    @property
    def ca(self) -> Path:
        """The installed CA bundle (PEM, one or more certificates)."""
        return self.keys / "ca.pem"

    @property
    def portal_key(self) -> Path:
        """The portal's X25519 public key records are sealed to."""
        return self.keys / "portal_x25519.pub.pem"

    @property
    def portal_signing_key(self) -> Path:
        """The portal's Ed25519 public key that signs agent files."""
        return self.keys / "portal_ed25519.pub.pem"

    @property
    def models(self) -> Path:
        """The installed model pack."""
        return self.data_dir / "models"

    @property
    def models_new(self) -> Path:
        """A model pack being copied and verified (never used by the kiosk)."""
        return self.data_dir / "models.new"

    @property
    def models_old(self) -> Path:
        """The previous pack during the swap."""
        return self.data_dir / "models.old"

    @property
    def database(self) -> Path:
        """The kiosk database (registrations, outbox, agents)."""
        from kiosk.store.db import DB_NAME

        return self.data_dir / DB_NAME

    @property
    def report_json(self) -> Path:
        """The signed provisioning report."""
        return self.prov / "report.json"

    @property
    def report_text(self) -> Path:
        """The human-readable provisioning report."""
        return self.prov / "report.txt"

    @property
    def selftest(self) -> Path:
        """The last self-test result (JSON)."""
        return self.prov / "selftest.json"

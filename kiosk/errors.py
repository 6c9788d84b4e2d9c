"""The kiosk's exception tree.

Every error the kiosk raises on purpose derives from :class:`KioskError` and also from the
builtin it most resembles, so callers may catch either (the pattern of gpiozero's ``exc.py``).
Library errors are re-raised as one of these with ``raise ... from err``.
"""

from __future__ import annotations


class KioskError(Exception):
    """Base of every error the kiosk raises on purpose."""


# --- configuration -------------------------------------------------------------------------
class ConfigError(KioskError, ValueError):
    """The configuration file is missing, unreadable or invalid."""

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        super().__init__(message)
        self.problems = problems or []


# --- input from people ---------------------------------------------------------------------
class InputError(KioskError, ValueError):
    """Something a person typed or chose is not acceptable; the message says why."""


class NikError(InputError):
    """A NIK (16-digit national identity number) is malformed or impossible."""

    def __init__(self, message: str, code: str = "invalid") -> None:
        super().__init__(message)
        self.code = code


class FormError(InputError):
    """An answer to the household questionnaire is invalid."""

    def __init__(self, message: str, field: str = "") -> None:
        super().__init__(message)
        self.field = field


class ObjectionRefused(InputError):
    """An objection (sanggah) cannot be filed; ``code`` says why (kiosk.core.objection)."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.code = code


class VoiceNoteError(InputError):
    """A spoken note cannot be kept; ``code`` says why (voice_empty, voice_too_long,
    voice_bad, no_microphone, microphone_busy, microphone_failed)."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.code = code


# --- registration flow ---------------------------------------------------------------------
class FlowError(KioskError, RuntimeError):
    """An action is not allowed in the registration session's current state."""


class SessionExpired(FlowError):
    """The session timed out or was abandoned; its personal data has been wiped."""


# --- storage -------------------------------------------------------------------------------
class StoreError(KioskError, OSError):
    """The local database could not be read or written."""


class StorageFullError(StoreError):
    """The data partition is too full to accept a new registration safely."""


class MigrationError(StoreError):
    """The database schema could not be brought up to date."""


class NotPersistentError(StoreError):
    """The data directory is on volatile storage (tmpfs/overlay) and would lose records."""


# --- models and vision ---------------------------------------------------------------------
class ModelError(KioskError, RuntimeError):
    """A model file is missing, corrupt, or not the model the kiosk expects."""


class CameraError(KioskError, OSError):
    """The camera is missing, unplugged, or stopped delivering frames."""


class ImageError(KioskError, ValueError):
    """An image could not be decoded or is unusable."""


# --- uplink and crypto ---------------------------------------------------------------------
class UplinkError(KioskError, ConnectionError):
    """The link to the portal failed."""


class ProtocolError(KioskError, ValueError):
    """A message from the portal is malformed, of an unknown version, or badly signed."""


class CryptoError(KioskError, ValueError):
    """Encryption, decryption, signing or a key failed."""


class StickError(KioskError, OSError):
    """The USB stick is missing, read-only, full or unreadable; ``code`` names which."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.code = code


# --- hardware ------------------------------------------------------------------------------
class HardwareError(KioskError, OSError):
    """A GPIO peripheral or other device could not be used."""


class MicrophoneError(HardwareError):
    """The microphone cannot record; ``code`` is no_microphone, microphone_busy or
    microphone_failed (the UI says which and offers the typed note)."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.code = code


# --- agents --------------------------------------------------------------------------------
class AgentAuthError(KioskError, PermissionError):
    """An agent login or co-signature failed, or the agent may not do this."""


class LoginThrottled(AgentAuthError):
    """Too many failed logins: the next attempt is allowed after ``wait_s`` seconds."""

    def __init__(self, message: str, wait_s: float) -> None:
        super().__init__(message)
        self.wait_s = wait_s


# --- provisioning --------------------------------------------------------------------------
class ReportLimited(InputError):
    """This reporter filed too many household reports or proposals; ``wait_s`` until the next."""

    def __init__(self, message: str, wait_s: float) -> None:
        super().__init__(message)
        self.wait_s = wait_s


class ProvisioningError(KioskError, RuntimeError):
    """A provisioning step failed; the message says how to fix it."""

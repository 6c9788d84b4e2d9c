"""Provisioning errors: each names what went wrong, a stable code, and how to fix it."""

from __future__ import annotations

from kiosk.errors import ProvisioningError


class StepError(ProvisioningError):
    """A step failed; ``code`` is stable (for tests and the report), ``fix`` tells what to do."""

    def __init__(self, code: str, message: str, fix: str) -> None:
        super().__init__(f"{message}\n  How to fix: {fix}")
        self.code = code
        self.problem = message
        self.fix = fix


class StepWaiting(StepError):
    """A step cannot finish until the technician supplies something (e.g. a signed cert)."""

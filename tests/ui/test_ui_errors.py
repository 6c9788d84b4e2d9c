"""Errors at the edge (ui/errors.py): one table from error class to words; every KioskError
and every unexpected exception is a translated, spoken screen with a way on, never a bare 500."""

from __future__ import annotations

import re

import pytest
from ui_kit import Kit

from kiosk import errors
from ui.errors import ERROR_SCREENS, GENERIC, screen_for


def test_the_most_specific_class_wins() -> None:
    assert screen_for(errors.StorageFullError("full")) is ERROR_SCREENS[errors.StorageFullError]
    assert screen_for(errors.MigrationError("m")) is ERROR_SCREENS[errors.StoreError]
    assert screen_for(errors.LoginThrottled("t", 3.0)) is ERROR_SCREENS[errors.AgentAuthError]
    assert screen_for(ValueError("plain")) is GENERIC


def test_every_kiosk_error_class_has_a_screen() -> None:
    classes = [
        c for c in vars(errors).values()
        if isinstance(c, type) and issubclass(c, errors.KioskError)
    ]  # fmt: skip
    for cls in classes:
        found = next((ERROR_SCREENS[k] for k in cls.__mro__ if k in ERROR_SCREENS), None)
        assert found is not None, cls


@pytest.mark.parametrize(
    ("raised", "words", "status"),
    [
        (errors.StorageFullError("disk"), "Penyimpanan kios penuh", 507),
        (errors.CameraError("unplugged"), "Kamera tidak berfungsi", 503),
        (RuntimeError("a bug"), "Terjadi masalah", 500),
    ],
)
def test_an_error_in_a_view_is_a_spoken_screen_with_a_way_on(
    kit: Kit, raised: Exception, words: str, status: int
) -> None:
    from kiosk.core.session import State

    kit.app.config["PROPAGATE_EXCEPTIONS"] = False

    def boom(*_a: object, **_k: object) -> None:
        raise raised

    c = kit.app.test_client()
    c.get("/")
    page = c.get("/menu").get_data(as_text=True)
    token = re.search(r'name="csrf-token" content="([^"]+)"', page)
    assert token
    c.post("/register", data={"csrf_token": token.group(1)})
    kit.verifier.check = boom  # type: ignore[method-assign]
    resp = c.post("/face", data={"csrf_token": token.group(1)})
    if resp.status_code == 302:  # not yet on the face step: type the NIK first
        c.post("/identify", data={"csrf_token": token.group(1), "nik": "3510014501900001"})
        resp = c.post("/face", data={"csrf_token": token.group(1)})
    html = resp.get_data(as_text=True)
    assert resp.status_code == status and words in html and 'id="error-back"' in html
    assert 'href="/face"' in html  # the way on leads back to the step: the session is kept
    with c.session_transaction() as s:
        assert kit.registration.view(str(s["reg"])).state is State.CAPTURE

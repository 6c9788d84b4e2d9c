"""The USB screen over Flask's test client: who may use it, counts, spoken Indonesian errors,
the export and the ack import through the real service."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from agent_doubles import attach_agents
from ui_kit import Kit, build_kit
from usb_doubles import Usb, attach_usb

from kiosk.config import KioskConfig
from kiosk.speech.fake import RecordingSpeech


@pytest.fixture
def setup(cfg: KioskConfig, tmp_path: Path) -> tuple[Kit, Usb, RecordingSpeech]:
    speech = RecordingSpeech()
    kit = build_kit(cfg, tmp_path, speech=speech)
    attach_agents(kit, tmp_path)
    return kit, attach_usb(kit, tmp_path), speech


def _as_technician(client: Any) -> None:
    with client.session_transaction() as s:
        s["technician_until"] = time.time() + 600


def _post(client: Any, url: str) -> Any:
    page = client.get("/usb/")
    token = page.get_data(as_text=True).split('name="csrf-token" content="')[1].split('"')[0]
    return client.post(url, data={"csrf_token": token})


def test_nobody_but_an_agent_or_technician_gets_in(setup: tuple[Kit, Usb, Any]) -> None:
    kit, _usb, _ = setup
    client = kit.app.test_client()
    page = client.get("/usb/")
    assert page.status_code == 302 and page.headers["Location"].endswith("/agent/login")
    assert client.post("/usb/export").status_code in (302, 400)
    _as_technician(client)
    assert client.get("/usb/").status_code == 200


def test_counts_export_and_acks_in_indonesian(setup: tuple[Kit, Usb, RecordingSpeech]) -> None:
    kit, usb, speech = setup
    usb.seed(4)
    client = kit.app.test_client()
    _as_technician(client)
    html = client.get("/usb/").get_data(as_text=True)
    assert "Ekspor ke USB" in html and "4 data belum dikonfirmasi portal" in html
    assert any("4 data menunggu portal" in t for lang, t in speech.said if lang == "id")

    assert _post(client, "/usb/export").status_code == 302
    job = usb.svc.wait()
    assert job is not None and job.state == "done" and job.exported is not None
    html = client.get("/usb/job").get_data(as_text=True)
    assert "4 data disalin ke flashdisk" in html
    assert usb.outbox().counts().waiting == 4  # exporting purges nothing

    usb.portal.import_stick(usb.stick)
    assert "Impor tanda terima" in client.get("/usb/").get_data(as_text=True)
    _post(client, "/usb/acks")
    usb.svc.wait()
    html = client.get("/usb/job").get_data(as_text=True)
    assert "4 data dikonfirmasi portal" in html
    assert usb.outbox().counts().acked == 4


def test_missing_stick_is_said_in_indonesian(setup: tuple[Kit, Usb, RecordingSpeech]) -> None:
    kit, usb, speech = setup
    usb.seed(1)
    usb.stick.rmdir()
    client = kit.app.test_client()
    _as_technician(client)
    html = client.get("/usb/").get_data(as_text=True)
    assert 'id="usb-error"' in html and "Flashdisk tidak ditemukan" in html
    assert any("Flashdisk tidak ditemukan" in t for _l, t in speech.said)
    assert 'id="usb-export" disabled' in html
    _post(client, "/usb/export")  # even when forced, the job fails with the spoken error
    job = usb.svc.wait()
    assert job is not None and job.error == "missing"
    assert "Flashdisk tidak ditemukan" in client.get("/usb/job").get_data(as_text=True)

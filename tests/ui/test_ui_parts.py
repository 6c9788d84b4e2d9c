"""Unit tests of the UI's parts: pictograms, speech cache, receipt printer, status service,
QR code, security settings."""

from __future__ import annotations

import logging
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from ui_doubles import face
from ui_kit import GOOD_NIK, Kit

from kiosk.core.forms import load_form
from kiosk.core.session import Outcome
from kiosk.errors import ConfigError, FlowError, HardwareError, NikError, SessionExpired
from kiosk.printer import open_printer
from kiosk.printer.escpos import EscPosPrinter, escpos_receipt
from kiosk.printer.fake import FilePrinter
from kiosk.services.ports import Receipt
from kiosk.speech.espeak import Speech, speech_key
from ui import serve
from ui.villager.api import qr_svg

ICONS = Path(__file__).resolve().parents[2] / "ui" / "static" / "icons"


def test_every_form_icon_has_a_pictogram_and_each_is_valid_svg() -> None:
    have = {p.stem for p in ICONS.glob("*.svg")}
    assert load_form().icons() <= have
    for svg in ICONS.glob("*.svg"):
        root = ET.parse(svg).getroot()
        assert root.tag.endswith("svg") and root.get("viewBox"), svg.name
        assert svg.stat().st_size < 4096, svg.name


def test_missing_icon_falls_back_to_generic(kit: Kit) -> None:
    from ui.villager.common import icon

    with kit.app.test_request_context():
        assert "icons/generic.svg" in icon("no-such-icon")
        assert "icons/cow.svg" in icon("cow")


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng not installed")
def test_speech_synthesises_once_and_caches_by_hash(tmp_path: Path) -> None:
    speech = Speech(tmp_path / "cache")
    key = speech.register("Selamat datang", "id")
    assert key == speech_key("id", "Selamat datang")
    audio = speech.wav(key)
    assert audio is not None and audio.startswith(b"RIFF")
    assert (tmp_path / "cache" / f"{key}.wav").read_bytes() == audio


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng not installed")
def test_personal_speech_never_touches_disk(tmp_path: Path) -> None:
    speech = Speech(tmp_path / "cache")
    key = speech.register("Nomor 3510 ABCD", "id", personal=True)
    assert key is not None and speech.wav(key) is not None
    assert not (tmp_path / "cache").exists() or not any((tmp_path / "cache").iterdir())
    speech.forget_personal()
    assert speech.wav(key) is None


def test_speech_degrades_silently_without_espeak(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):
        speech = Speech(tmp_path, binary="no-such-espeak-binary")
        assert speech.register("Halo", "id") is None
        assert speech.wav("0" * 64) is None
    assert sum("not found" in r.message for r in caplog.records) == 1


def test_speech_rejects_bad_and_unknown_keys(tmp_path: Path) -> None:
    speech = Speech(tmp_path)
    assert speech.wav("../../etc/passwd") is None
    assert speech.wav("f" * 64) is None


def test_escpos_receipt_bytes_and_file_printer(tmp_path: Path) -> None:
    receipt = Receipt("Pendaftaran", "Nomor", "3510-ABCD-EFGH", ("Kantor Desa",))
    data = escpos_receipt(receipt)
    assert data.startswith(b"\x1b@") and data.endswith(b"\x1dVB\x00")
    assert b"3510-ABCD-EFGH" in data and b"\x1d(k" in data  # text and QR
    printer = FilePrinter(tmp_path / "out.bin")
    printer.print_receipt(receipt)
    assert (tmp_path / "out.bin").read_bytes() == data
    assert open_printer("escpos", None) is None
    assert isinstance(open_printer("file", tmp_path / "fake.bin"), FilePrinter)
    assert isinstance(open_printer("escpos", tmp_path / "lp0"), EscPosPrinter)


def test_escpos_printer_missing_device_is_a_hardware_error(tmp_path: Path) -> None:
    with pytest.raises(HardwareError, match="receipt printer"):
        EscPosPrinter(tmp_path / "no-such-lp0").print_receipt(Receipt("t", "n", "1", ()))


def test_receipt_qr_is_svg_without_inline_style() -> None:
    svg = qr_svg("3510-ABCD-EFGH").decode()
    assert svg.lstrip().startswith("<?xml") or "<svg" in svg
    assert "style=" not in svg


def test_status_service_reveals_nothing_before_face(kit: Kit) -> None:
    st = kit.status
    token = st.start()
    with pytest.raises(NikError):
        st.identify(token, "123")
    st.identify(token, GOOD_NIK)
    assert st.records(token) is None
    kit.verifier.script(face(Outcome.PENDING))
    assert st.check_face(token).shown is False
    kit.verifier.script(face(Outcome.VERIFIED))
    answer = st.check_face(token)
    assert answer.shown is True and answer.records == ()
    with pytest.raises(FlowError):
        st.lookup_for_agent(GOOD_NIK, "")


def test_status_service_times_out(kit: Kit) -> None:
    token = kit.status.start()
    kit.clock.advance(61)
    assert kit.status.view(token).warned is True
    kit.status.warning_shown(token)
    kit.clock.advance(30)
    with pytest.raises(SessionExpired):
        kit.status.view(token)
    assert not kit.status.active


def test_status_face_needs_a_nik_first(kit: Kit) -> None:
    token = kit.status.start()
    with pytest.raises(FlowError):
        kit.status.check_face(token)


def test_serve_refuses_non_loopback_and_debug(kit: Kit) -> None:
    with pytest.raises(ConfigError, match="loopback"):
        serve(kit.app, host="0.0.0.0")
    kit.app.debug = True
    with pytest.raises(ConfigError, match="debug"):
        serve(kit.app)


def test_create_app_refuses_flask_debug(
    kit: Kit, cfg, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ui_kit import build_kit

    monkeypatch.setenv("FLASK_DEBUG", "1")
    with pytest.raises(ConfigError, match="debug"):
        build_kit(cfg, tmp_path / "again")


def test_camera_qr_reader_decodes_an_ikd_like_code() -> None:
    import numpy as np
    import qrcode

    from ui.qrscan import CameraQrReader

    img = qrcode.make(f"IKD|{GOOD_NIK}|DEMO").convert("RGB").resize((400, 400))
    frame = np.asarray(img)
    assert CameraQrReader(lambda: frame).read() == f"IKD|{GOOD_NIK}|DEMO"
    assert CameraQrReader(lambda: np.zeros((240, 320, 3), np.uint8)).read() is None
    assert CameraQrReader(lambda: None).read() is None


def test_qr_nik_is_offered_only_inside_a_session(kit: Kit) -> None:
    import re

    kit.qr.text = f"IKD|{GOOD_NIK}|DEMO"
    c = kit.app.test_client()
    assert c.get("/api/qr").get_json() == {"nik": None}
    html = c.get("/language").get_data(as_text=True)
    token = re.search(r'name="csrf-token" content="([^"]+)"', html).group(1)  # type: ignore[union-attr]
    c.post("/register", data={"csrf_token": token})
    assert "data-qr-url" in c.get("/identify").get_data(as_text=True)
    assert c.get("/api/qr").get_json() == {"nik": GOOD_NIK}
    kit.qr.text = None
    assert c.get("/api/qr").get_json() == {"nik": None}  # nothing in view: nothing to say


@pytest.mark.parametrize(
    "text", ["not a nik 123", "random text 1234567890123456", "https://example.id/3510014507850001"]
)
def test_a_refused_qr_code_is_explained_in_words_and_speech(kit: Kit, text: str) -> None:
    """A QR code that is not a known NIK structure: why, and the way on, shown and spoken."""
    import re

    c = kit.app.test_client()
    html = c.get("/language").get_data(as_text=True)
    token = re.search(r'name="csrf-token" content="([^"]+)"', html).group(1)  # type: ignore[union-attr]
    c.post("/register", data={"csrf_token": token})
    page = c.get("/identify").get_data(as_text=True)
    assert 'id="qr-error"' in page and 'role="alert"' in page and 'id="qr-audio"' in page
    kit.qr.text = text
    answer = c.get("/api/qr").get_json()
    assert answer["nik"] is None and answer["refused"] is True
    assert "bukan kode NIK dari aplikasi IKD" in answer["message"]  # Indonesian first
    assert "ketik 16 angka NIK" in answer["message"]  # the way on
    assert text not in answer["message"]  # the code's own content is never echoed


def test_templates_have_no_inline_script_or_style() -> None:
    """The CSP forbids inline code; the templates must not rely on it."""
    import re

    templates = Path(__file__).resolve().parents[2] / "ui" / "templates"
    for tpl in templates.rglob("*.html"):
        text = tpl.read_text()
        assert not re.search(r"\sstyle\s*=", text), tpl.name
        assert not re.search(r"\son[a-z]+\s*=", text), tpl.name
        assert not re.search(r"<script(?![^>]*\ssrc=)", text), tpl.name
        assert "javascript:" not in text, tpl.name
        assert not re.search(r"https?://", text), tpl.name  # nothing from outside

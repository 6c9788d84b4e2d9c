"""The real microphone adapter runs the real arecord (alsa-utils): a machine without a sound
card says "no microphone", and ALSA's null device gives a WAV in the one format, bounded."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from kiosk.audio import open_microphone
from kiosk.audio.arecord import ArecordMicrophone
from kiosk.audio.tone import ToneMicrophone
from kiosk.config import parse_config
from kiosk.core import voice
from kiosk.errors import ConfigError, MicrophoneError

needs_arecord = pytest.mark.skipif(shutil.which("arecord") is None, reason="alsa-utils missing")


@needs_arecord
def test_no_such_card_is_no_microphone() -> None:
    with pytest.raises(MicrophoneError) as err:
        ArecordMicrophone("plughw:CARD=NoSuchMic").start(5)
    assert err.value.code == "no_microphone"


@needs_arecord
def test_the_null_device_records_the_one_format_bounded_by_the_limit() -> None:
    wav = ArecordMicrophone("null").start(1).stop()
    pcm = voice.pcm_of(wav)  # 8 kHz mono S16, else VoiceNoteError
    assert 0 < len(pcm) <= voice.RATE_HZ * voice.SAMPLE_BYTES * 1


def test_a_missing_binary_is_no_microphone() -> None:
    with pytest.raises(MicrophoneError) as err:
        ArecordMicrophone(binary="arecord-not-installed").start(5)
    assert err.value.code == "no_microphone"


def test_the_config_chooses_the_microphone_from_the_registry() -> None:
    tone = open_microphone(
        parse_config({"microphone": {"backend": "tone", "tone_seconds": 7.5}}).microphone
    )
    assert isinstance(tone, ToneMicrophone) and tone.seconds == 7.5
    assert open_microphone(parse_config({"microphone": {"backend": "none"}}).microphone) is None
    real = open_microphone(
        parse_config({"microphone": {"backend": "arecord", "device": "plughw:1,0"}}).microphone
    )
    assert isinstance(real, ArecordMicrophone)
    for bad in ({"max_seconds": 61}, {"device": "hw:0; rm -rf /"}, {"backend": "pulse"}):
        with pytest.raises(ConfigError):
            parse_config({"microphone": bad})


@pytest.mark.parametrize(
    ("stderr", "code"),
    [
        ("arecord: main:831: audio open error: Device or resource busy", "microphone_busy"),
        ("arecord: main:831: audio open error: No such device", "no_microphone"),
        ("ALSA lib pcm.c:2666:(snd_pcm_open_noupdate) Unknown PCM default", "no_microphone"),
        ("arecord: pcm_read:2221: read error: Input/output error", "microphone_failed"),
        ("", "microphone_failed"),
    ],
)
def test_arecords_complaint_names_what_the_person_is_told(stderr: str, code: str) -> None:
    from kiosk.audio.arecord import _failure

    assert _failure(stderr).code == code


def test_auto_records_with_arecord_only_where_alsa_lists_a_capture_device(tmp_path: Path) -> None:
    from kiosk.audio import auto_backend

    pcm = tmp_path / "pcm"
    pcm.write_text("00-00: bcm2835 HDMI 1 : bcm2835 HDMI 1 : playback 8\n")
    assert auto_backend(pcm) == "tone"
    assert auto_backend(tmp_path / "missing") == "tone"
    pcm.write_text("01-00: USB Audio : USB Audio : playback 1 : capture 1\n")
    assert auto_backend(pcm) == ("arecord" if shutil.which("arecord") else "tone")

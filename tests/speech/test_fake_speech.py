"""The speech fake shipped beside espeak-ng: what was said, keys as the real one gives them,
silence as long as the text takes to say, personal texts forgotten."""

from __future__ import annotations

from kiosk.speech.espeak import speech_key
from kiosk.speech.fake import RecordingSpeech
from kiosk.speech.wav import silence, wav_seconds


def test_the_fake_remembers_what_was_said_with_the_real_keys() -> None:
    speech = RecordingSpeech()
    key = speech.register("Selamat datang", "id")
    assert key == speech_key("id", "Selamat datang")
    assert speech.register("Sugeng rawuh", "jv") == speech_key("id", "Sugeng rawuh")  # jv: id voice
    assert speech.register("   ", "id") is None
    assert speech.said == [("id", "Selamat datang"), ("jv", "Sugeng rawuh")]
    assert speech.available


def test_the_fake_serves_silence_as_long_as_the_text_takes_to_say() -> None:
    speech = RecordingSpeech(speed_wpm=120)
    key = speech.register(" ".join(["kata"] * 60), "id")  # 60 words at 120 wpm: 30 s
    assert key is not None
    audio = speech.wav(key)
    assert audio is not None and audio[:4] == b"RIFF"
    assert speech.duration(key) == 30.0
    assert speech.wav("0" * 64) is None and speech.duration("0" * 64) is None


def test_personal_texts_are_forgotten_when_the_session_ends() -> None:
    speech = RecordingSpeech()
    shared = speech.register("Ambil foto", "id")
    personal = speech.register("Nomor 1234 5678 9012", "id", personal=True)
    assert shared and personal
    speech.forget_personal()
    assert speech.wav(personal) is None and speech.wav(shared) is not None


def test_silence_is_a_wav_of_the_asked_length() -> None:
    assert wav_seconds(silence(2.5)) == 2.5
    assert wav_seconds(silence(0)) == 0.0
    assert wav_seconds(b"not a wav") is None

"""The spoken consent summary fits the target: <= 45 s of espeak-ng speech at the kiosk's rate,
measured with soxi on the WAV espeak-ng writes (the full text is ~3 minutes, on request)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from kiosk import languages
from kiosk.core.forms import load_consent
from ui.forms_view import consent_view

SPEED_WPM = 140  # kiosk.speech.espeak.Speech's default rate
HINT = "For the full text, touch Listen to everything."
"""The hint the consent screen adds to the spoken summary (templates/villager/consent.html)."""


def spoken_seconds(text: str, voice: str, out: Path) -> float:
    subprocess.run(
        ["espeak-ng", "-v", voice, "-s", str(SPEED_WPM), "-w", str(out), text],
        check=True,
        capture_output=True,
    )
    done = subprocess.run(["soxi", "-D", str(out)], check=True, capture_output=True, text=True)
    return float(done.stdout.strip())


@pytest.mark.parametrize("lang", languages.LANGUAGES, ids=lambda lang: lang.code)
def test_spoken_consent_summary_is_at_most_45_seconds(
    lang: languages.Language, tmp_path: Path
) -> None:
    """In every registered language, in its own voice."""
    view = consent_view(load_consent(), lang.code)
    assert view.summary, "consent_v2 has a summary"
    hint = languages.translator(lang.code)(HINT)
    summary = spoken_seconds(f"{view.spoken_summary} {hint}", lang.voice, tmp_path / "s.wav")
    full = spoken_seconds(view.spoken, lang.voice, tmp_path / "f.wav")
    assert summary <= 45.0, f"summary is {summary:.1f} s"
    assert full > 2 * summary, "the full text really is longer (read on request)"

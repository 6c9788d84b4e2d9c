"""The language registry is the one declaration the config, the UI and the speech derive from."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from kiosk import languages
from kiosk.config import parse_config
from kiosk.errors import ConfigError
from kiosk.speech.espeak import Speech, speech_key


def test_the_first_language_is_indonesian_and_codes_are_unique() -> None:
    assert languages.DEFAULT == "id" == languages.LANGUAGES[0].code
    assert len(set(languages.CODES)) == len(languages.LANGUAGES)
    assert all(lang.native_name and lang.voice for lang in languages.LANGUAGES)


@pytest.mark.parametrize("code", languages.CODES)
def test_the_config_accepts_every_registered_language(code: str) -> None:
    assert parse_config({"ui": {"language": code}}).ui.language == code


def test_the_config_refuses_an_unregistered_language_naming_the_choices() -> None:
    with pytest.raises(ConfigError) as err:
        parse_config({"ui": {"language": "fr"}})
    expected = "unknown language 'fr'; choose one of " + ", ".join(languages.CODES)
    assert any(expected in p for p in err.value.problems), err.value.problems


def test_an_unknown_code_falls_back_to_the_default_language() -> None:
    assert languages.language("xx").code == languages.DEFAULT
    assert languages.language(None).code == languages.DEFAULT
    with pytest.raises(ValueError, match="unknown language"):
        languages.translator("xx")


@pytest.mark.parametrize("lang", languages.LANGUAGES, ids=lambda lang: lang.code)
def test_speech_uses_the_registered_voice(tmp_path, lang: languages.Language) -> None:
    speech = Speech(tmp_path, binary="true")  # any binary: registering only
    assert speech.register("Sugeng rawuh", lang.code) == speech_key(lang.voice, "Sugeng rawuh")


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng not installed")
@pytest.mark.parametrize("lang", languages.LANGUAGES, ids=lambda lang: lang.code)
def test_every_registered_voice_exists_in_espeak(lang: languages.Language) -> None:
    done = subprocess.run(
        ["espeak-ng", "-v", lang.voice, "-q", "x"], capture_output=True, check=False
    )
    assert done.returncode == 0 and not done.stderr, done.stderr

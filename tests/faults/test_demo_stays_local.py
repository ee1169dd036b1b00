"""Demo mode sends nothing anywhere, whatever OpenAI key is set: the README's promise.

The fake OpenAI server is where the key and base URL point; it must see zero requests (its
teardown check also fails on any request it was not scripted for).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from keyrings.alt.file import PlaintextKeyring

from assistant.agent.reply import without_model
from tests.fakes.openai_server import FakeOpenAI
from tests.faults.conftest import FaultMatrix, Segue
from tests.support.env import isolated_env
from tests.support.speech import speak_to_file


def _demo_env(
    home: Path, fake: FakeOpenAI, key_in: str, monkeypatch: pytest.MonkeyPatch
) -> dict[str, str]:
    env = isolated_env(home, SEGUE_OPENAI_BASE_URL=fake.base_url, OPENAI_BASE_URL=fake.base_url)
    if key_in == "environment":
        env["OPENAI_API_KEY"] = "sk-test"
    else:
        monkeypatch.setenv("XDG_DATA_HOME", env["XDG_DATA_HOME"])
        PlaintextKeyring().set_password("segue", "openai-api-key", "sk-test")
    return env


@pytest.mark.parametrize(
    ("spoken", "key_in"),
    [
        pytest.param(False, "environment", id="typed-key-in-environment"),
        pytest.param(False, "keyring", id="typed-key-in-keyring"),
        pytest.param(True, "environment", id="spoken-key-in-environment"),
    ],
)
def test_demo_mode_sends_nothing_to_openai(
    spoken: bool,
    key_in: str,
    tmp_path: Path,
    home: Path,
    fake_openai: FakeOpenAI,
    monkeypatch: pytest.MonkeyPatch,
    segue: Segue,
    matrix: FaultMatrix,
) -> None:
    env = _demo_env(home, fake_openai, key_in, monkeypatch)
    if spoken:
        recording = speak_to_file(tmp_path / "volume.wav", "volume thirty")
        done = segue("listen", "--json", "--file", str(recording), env=env)
    else:
        done = segue("say", "play something calm for reading", env=env)
    if fake_openai.count():
        matrix.leaks.append(f"{'spoken' if spoken else 'typed'}: {fake_openai.count()} request(s)")
    assert fake_openai.count() == 0
    if spoken:
        result = json.loads(done.stdout)
        assert result["ok"] and result["reply"] == "Volume 30%."
        assert result["timings"]["bytes_to_openai"] == 0
    else:
        # Without the model, the command the fast path does not know gets the list of what works.
        # (After the one line that says the demo plays: no Spotify app is configured.)
        assert done.stderr.strip().splitlines()[-1] == without_model() and done.returncode == 1


def test_doctor_says_demo_mode_leaves_the_key_unused(
    home: Path, fake_openai: FakeOpenAI, monkeypatch: pytest.MonkeyPatch, segue: Segue
) -> None:
    # The doctor tries the key when asked (one short request of its own), and says demo mode
    # does not use it.
    fake_openai.chat("OK")
    env = _demo_env(home, fake_openai, "environment", monkeypatch)
    done = segue("doctor", "--json", env=env)
    checks = {c["name"]: c for c in json.loads(done.stdout)["checks"]}
    assert checks["OpenAI"]["status"] == "ok"
    assert checks["OpenAI"]["detail"].endswith(
        "; not used in demo mode: nothing leaves this computer until Spotify is connected"
    )

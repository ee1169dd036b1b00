"""The record of playlist builds: how long builds are kept, and where (file, memory, demo)."""

from __future__ import annotations

from pathlib import Path

from assistant import app
from assistant.config import Settings
from assistant.pipeline import Utterance
from assistant.spotify.builds import DONE_SECONDS, KEEP_SECONDS, BuildStore

REQUEST = {"tool": "create_playlist", "arguments": {"name": "Late Shift"}}
SONGS = ["spotify:track:a", "spotify:track:b"]


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


def started(store: BuildStore) -> None:
    store.start("Late Shift", SONGS, description="", public=False, request=REQUEST)


def test_an_unfinished_build_is_kept_for_a_week_and_a_done_one_for_minutes(tmp_path: Path) -> None:
    clock = Clock()
    store = BuildStore(tmp_path / "builds.sqlite3", clock=clock)
    started(store)
    clock.now += KEEP_SECONDS - 1
    build = store.get("late shift!")  # the same name, folded
    assert build is not None and not build.done and build.uris == tuple(SONGS)
    store.finish(store.added(build, SONGS))
    assert store.latest_unfinished(within=3600) is None

    clock.now += DONE_SECONDS - 1
    assert store.get("Late Shift") is not None
    clock.now += 2
    assert store.get("Late Shift") is None

    started(store)
    clock.now += KEEP_SECONDS + 1
    assert store.get("Late Shift") is None


def test_a_second_store_on_the_same_file_sees_the_build(tmp_path: Path) -> None:
    started(BuildStore(tmp_path / "builds.sqlite3"))
    other = BuildStore(tmp_path / "builds.sqlite3")  # another process
    found = other.latest_unfinished(within=60)
    assert found is not None and found.request == REQUEST


def test_an_unusable_builds_file_falls_back_to_memory(tmp_path: Path) -> None:
    blocked = tmp_path / "builds.sqlite3"
    blocked.mkdir()  # a directory where the file should be
    store = BuildStore(blocked)
    started(store)
    assert store.get("Late Shift") is not None and store.path is None


def test_demo_mode_keeps_builds_in_memory(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    with app.build_assistant(Settings(), data_dir=data_dir, demo=True) as assistant:
        reply = assistant.pipeline.handle(Utterance("make a playlist of songs by Nina Simone"))
    assert reply.ok and reply.text.startswith("Created “Songs by Nina Simone” with")
    # builds.sqlite3 is the account's: a demo build in it could be "finished" on the real account.
    assert not (data_dir / app.BUILDS_FILE).exists()


def test_try_again_reaches_back_only_as_long_as_segues_questions_last(tmp_path: Path) -> None:
    # "try again" finishes the build that just failed, not one from an hour of other commands.
    clock = Clock()
    store = BuildStore(tmp_path / "builds.sqlite3", clock=clock)
    started(store)
    clock.now += app.UNFINISHED_BUILD_WINDOW - 1
    found = store.latest_unfinished(within=app.UNFINISHED_BUILD_WINDOW)
    assert found is not None and found.request == REQUEST
    clock.now += 2
    assert store.latest_unfinished(within=app.UNFINISHED_BUILD_WINDOW) is None
    assert app.UNFINISHED_BUILD_WINDOW <= 300  # the agent's own five minutes

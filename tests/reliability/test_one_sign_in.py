"""One sign-in across processes: concurrent `segue say` commands share one refresh.

Spotify's refresh tokens may be single-use: the simulator retires each one when it answers a
refresh with a new one, so two processes refreshing with the same token leave one of them with a
dead token. Every command here is a `segue` subprocess in one home (one file keyring).
"""

from __future__ import annotations

from urllib.parse import parse_qs

import pytest

from assistant.sim import SimulatedSpotify
from tests.reliability.conftest import Home

COMMANDS_AT_ONCE = 15
AFTER_EXPIRY_AT_ONCE = 5
LOST_SIGN_IN = ("expired", "not signed in")


def refreshes(sim: SimulatedSpotify) -> int:
    """How many refresh requests reached the token endpoint."""
    return sum(
        1
        for e in sim.exchanges
        if e.method == "POST"
        and e.path == "/api/token"
        and parse_qs(e.request_body.decode()).get("grant_type") == ["refresh_token"]
    )


def run_at_once(home: Home, count: int) -> list[tuple[int, str]]:
    """Run `segue say pause` ``count`` times at once; each one's exit code and stderr."""
    started = [home.start("pause") for _ in range(count)]
    return [(p.wait(timeout=90), p.communicate()[1]) for p in started]


def assert_signed_in(finished: list[tuple[int, str]]) -> None:
    lost = [err for _, err in finished if any(s in err.casefold() for s in LOST_SIGN_IN)]
    assert lost == [], f"{len(lost)} of {len(finished)} commands lost the sign-in: {lost[0]}"
    assert [code for code, _ in finished] == [0] * len(finished), finished


def test_commands_at_once_keep_the_sign_in_and_refresh_only_when_needed(
    home: Home, sim: SimulatedSpotify, monkeypatch: pytest.MonkeyPatch
) -> None:
    home.sign_in(monkeypatch)  # a refresh token only, as after `segue login` long ago

    assert_signed_in(run_at_once(home, COMMANDS_AT_ONCE))
    # One process refreshed; the others used the access token it stored.
    assert refreshes(sim) == 1

    again = home.say("pause")
    assert again.returncode == 0, again.stderr
    assert refreshes(sim) == 1  # the stored access token was still good: no refresh at all

    # The stored access token expires (Spotify answers 401): each process meets the 401, the
    # first to take the lock refreshes and the others take the token it stored.
    sim.expire_access_tokens()
    assert_signed_in(run_at_once(home, AFTER_EXPIRY_AT_ONCE))
    assert refreshes(sim) == 2

"""Fixtures for the tray and notification tests: a virtual desktop and an album-art server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.desktop_tray.art_server import ArtServer
from tests.support.desktop import VirtualDesktop


@pytest.fixture(scope="module")
def desktop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[VirtualDesktop]:
    """One virtual desktop (Xvfb, dbus, trayer, dunst) for every test of a module."""
    with VirtualDesktop(tmp_path_factory.mktemp("desktop")) as desk:
        yield desk


@pytest.fixture
def art_server() -> Iterator[ArtServer]:
    server = ArtServer()
    yield server
    server.close()

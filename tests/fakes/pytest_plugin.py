"""Pytest plugin: the ``fake_openai`` fixture.

Register it in the root ``tests/conftest.py`` with
``pytest_plugins = ["tests.fakes.pytest_plugin"]``.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fakes.openai_server import FakeOpenAI


@pytest.fixture
def fake_openai() -> Iterator[FakeOpenAI]:
    """Yield a started :class:`FakeOpenAI`; at teardown, verify it and stop it.

    Teardown fails the test when a scripted step went unused, a request was unexpected, a request
    check failed, or an exchange broke the OpenAI spec.
    """
    with FakeOpenAI() as fake:
        yield fake
        fake.verify()

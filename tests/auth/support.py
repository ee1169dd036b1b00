"""Helpers for the sign-in tests: free loopback ports, a clock, a browser that clicks through."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin

import requests

from assistant.spotify.auth import SpotifyAuth


def free_port(host: str = "127.0.0.1") -> int:
    """A port nothing listens on right now (bound to port 0, read, closed)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def can_listen(host: str, port: int) -> bool:
    """Whether a server program (SO_REUSEADDR, as every one sets it) could listen on the port."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
            sock.listen()
        except OSError:
            return False
        return True


class FakeClock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.by_id: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "a" and values.get("id") and values.get("href"):
            self.by_id[str(values["id"])] = str(values["href"])


class FakeBrowser:
    """Follows the sign-in URL the way a person's browser does, on its own thread.

    GET the consent page, follow the link with id ``click`` ("agree" or "cancel"), and follow
    Spotify's redirect to Segue's loopback callback. ``before`` runs first on the same thread
    (old tabs, favicon fetches, ...).
    """

    def __init__(
        self,
        click: str = "agree",
        *,
        before: Callable[[], None] | None = None,
    ) -> None:
        self.click = click
        self.before = before
        self.opened: list[str] = []
        self.callback_url: str | None = None
        self.callback_url_known = threading.Event()
        self.final_page: requests.Response | None = None
        self.error: BaseException | None = None
        self.done = threading.Event()

    def __call__(self, url: str) -> bool:
        self.opened.append(url)
        threading.Thread(target=self._run, args=(url,), name="fake-browser", daemon=True).start()
        return True

    def _run(self, url: str) -> None:
        try:
            if self.before is not None:
                self.before()
            with requests.Session() as session:
                session.trust_env = False  # no proxies for loopback
                consent = session.get(url, timeout=5, allow_redirects=False)
                if consent.is_redirect:  # consent="approve": Spotify redirects at once
                    callback_url = urljoin(url, consent.headers["Location"])
                else:
                    consent.raise_for_status()
                    links = _Links()
                    links.feed(consent.text)
                    choice = session.get(
                        urljoin(consent.url, links.by_id[self.click]),
                        timeout=5,
                        allow_redirects=False,
                    )
                    assert choice.is_redirect, choice.text
                    callback_url = urljoin(choice.url, choice.headers["Location"])
                self.callback_url = callback_url
                self.callback_url_known.set()
                self.final_page = session.get(callback_url, timeout=10)
        except BaseException as err:
            self.error = err
        finally:
            self.done.set()

    def result(self) -> requests.Response:
        """The page the browser ended on (waits for the browser thread)."""
        assert self.done.wait(10), "the browser never finished"
        if self.error is not None:
            raise self.error
        assert self.final_page is not None
        return self.final_page


def get(url: str, **kwargs: Any) -> requests.Response:
    """One plain browser request (no proxies)."""
    with requests.Session() as session:
        session.trust_env = False
        return session.get(url, timeout=5, **kwargs)


AuthFactory = Callable[..., SpotifyAuth]


def record(opened: list[str]) -> Callable[[str], bool]:
    """An open_browser that only notes the URL (and says the browser opened)."""

    def open_browser(url: str) -> bool:
        opened.append(url)
        return True

    return open_browser

"""A BROWSER command for the setup-window test: notes each URL, and follows the loopback ones.

Usage (as ``BROWSER``): ``fake_browser.py URL``. Every URL is appended to ``$SETUP_BROWSER_LOG``.
A URL on 127.0.0.1 (the simulator's consent page, which approves at once) is fetched with its
redirects followed, so the sign-in's redirect reaches Segue's loopback callback as a browser's
would. Other URLs (the Spotify dashboard) are only noted: the tests have no network.
"""

from __future__ import annotations

import os
import sys
import urllib.request


def main(url: str) -> int:
    with open(os.environ["SETUP_BROWSER_LOG"], "a", encoding="utf-8") as log:
        log.write(url + "\n")
    if url.startswith("http://127.0.0.1:"):
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with opener.open(url, timeout=10) as page:
            page.read()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))

"""`segue` as `python -m assistant` runs it, with a window onto its popup for the tests.

The popup is a process of its own that only the tray process talks to, so a test cannot ask it
what it shows. This runs the real command line (``assistant.cli.main`` with the arguments given)
after one addition: the tray's ``PopupProcess`` is remembered, and each line ``state`` on stdin is
answered with a line ``POPUP {json}`` on stdout (the popup's answer to its "state" message, see
``assistant.desktop.popup``), or ``POPUP null`` while there is no popup.
"""

from __future__ import annotations

import json
import sys
import threading
from typing import Any

import assistant.desktop.popup as popup_module
from assistant.cli import main

_popups: list[popup_module.PopupProcess] = []
_print_lock = threading.Lock()


class _RememberedPopup(popup_module.PopupProcess):
    """The real popup, remembered so that stdin can ask it for its state."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _popups.append(self)


def _answer_state_requests() -> None:
    for line in sys.stdin:
        if line.strip() != "state":
            continue
        state = _popups[-1].request_state() if _popups else None
        with _print_lock:
            print("POPUP " + json.dumps(state, ensure_ascii=False), flush=True)


if __name__ == "__main__":
    popup_module.PopupProcess = _RememberedPopup  # type: ignore[misc]
    threading.Thread(target=_answer_state_requests, name="popup-state", daemon=True).start()
    raise SystemExit(main(sys.argv[1:]))

"""A tiny album-art server on 127.0.0.1 for the notification tests."""

from __future__ import annotations

import io
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from PIL import Image, ImageDraw

ART_COLOUR = (214, 40, 110)


def album_cover() -> bytes:
    """A 640 px JPEG cover, like Spotify's largest album image: a magenta field with a disc."""
    cover = Image.new("RGB", (640, 640), ART_COLOUR)
    draw = ImageDraw.Draw(cover)
    draw.ellipse((120, 120, 520, 520), fill=(250, 200, 60))
    draw.ellipse((290, 290, 350, 350), fill=ART_COLOUR)
    out = io.BytesIO()
    cover.save(out, "JPEG", quality=90)
    return out.getvalue()


class ArtServer:
    """Serves /cover.jpg (a JPEG), /missing (404), /garbage (not an image), /slow (2 s late)."""

    def __init__(self) -> None:
        self.hits: list[str] = []
        self._lock = threading.Lock()
        cover = album_cover()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                with server._lock:
                    server.hits.append(self.path)
                if self.path.startswith("/slow"):
                    time.sleep(2)
                if self.path.startswith("/cover") or self.path.startswith("/slow"):
                    body, status, kind = cover, 200, "image/jpeg"
                elif self.path.startswith("/garbage"):
                    body, status, kind = b"<html>not a picture</html>", 200, "image/jpeg"
                else:
                    body, status, kind = b"not found", 404, "text/plain"
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                try:
                    self.wfile.write(body)
                except OSError:
                    pass  # the client gave up (the /slow case)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        self.base_url = f"http://127.0.0.1:{self._server.server_port}"

    def count(self, path: str) -> int:
        with self._lock:
            return sum(1 for hit in self.hits if hit == path)

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

"""Album covers for the simulated Spotify: a small PNG drawn per album, the same every time."""

from __future__ import annotations

import hashlib
import io
from functools import lru_cache

COVER_SIZE = 300


@lru_cache(maxsize=256)
def cover_png(album_id: str, title: str) -> bytes:
    """A square cover for ``album_id``: a colour pair from its ID and the title's initials."""
    from PIL import Image, ImageDraw, ImageFont

    digest = hashlib.sha256(album_id.encode()).digest()
    background = (digest[0] // 2 + 40, digest[1] // 2 + 40, digest[2] // 2 + 40)
    accent = (255 - digest[3] // 3, 255 - digest[4] // 3, 255 - digest[5] // 3)
    image = Image.new("RGB", (COVER_SIZE, COVER_SIZE), background)
    draw = ImageDraw.Draw(image)
    draw.ellipse((40, 40, COVER_SIZE - 40, COVER_SIZE - 40), outline=accent, width=12)
    initials = "".join(word[0] for word in title.split()[:2] if word[:1].isalnum()).upper()
    font = ImageFont.load_default(size=96)
    draw.text(
        (COVER_SIZE / 2, COVER_SIZE / 2), initials or "♪", fill=accent, font=font, anchor="mm"
    )
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()

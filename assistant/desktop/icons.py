"""The tray pictures: one per ``UiState``, drawn with Pillow at the exact size asked for.

Every state is a filled disc in its own colour with a white (or dark) glyph on it, so the states
differ both in colour and in shape (for people who do not tell red from green):

- idle: indigo, a music note;
- listening: red, a microphone;
- thinking: amber, three dots;
- speaking: green, a speaker with sound waves (sound bars below 20 px);
- error: grey with a red ring, an exclamation mark.

The demo badge is a purple square in the bottom-right corner (with a "D" from 24 px up).

Each picture is drawn for its size, not scaled from a big one: geometry is worked out in target
pixels, snapped to whole pixels below 24 px (so small icons keep sharp edges) and drawn four times
larger, then reduced with a box filter for anti-aliased curves. Small sizes use simpler glyphs.
"""

from __future__ import annotations

from PIL import Image, ImageDraw

from assistant.desktop.state import UiState

_SUPERSAMPLE = 4
_SMALL = 20  # below this, glyphs lose their fine parts (the note's flag, the speaker's waves)
_SNAP = 24  # below this, geometry is snapped to whole pixels

Rgba = tuple[int, int, int, int]

WHITE: Rgba = (255, 255, 255, 255)
STATE_COLOURS: dict[UiState, Rgba] = {
    UiState.IDLE: (79, 109, 245, 255),  # indigo: Segue's accent
    UiState.LISTENING: (229, 57, 53, 255),  # red: the microphone is open
    UiState.THINKING: (255, 179, 0, 255),  # amber
    UiState.SPEAKING: (29, 185, 84, 255),  # green
    UiState.ERROR: (97, 97, 97, 255),  # grey, with a red ring
}
_THINKING_DOTS: Rgba = (66, 42, 0, 255)
_ERROR_RING: Rgba = (229, 57, 53, 255)
_BADGE: Rgba = (142, 36, 170, 255)

MIN_SIZE = 8
MAX_SIZE = 1024


class _Canvas:
    """A supersampled RGBA canvas addressed in target pixels."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.snap = size < _SNAP
        big = size * _SUPERSAMPLE
        self.image = Image.new("RGBA", (big, big), (0, 0, 0, 0))
        self.draw = ImageDraw.Draw(self.image)

    def _v(self, value: float) -> float:
        if self.snap:
            value = round(value)
        return value * _SUPERSAMPLE

    def _box(self, box: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
        x0, y0, x1, y1 = (self._v(v) for v in box)
        # Pillow boxes include their right/bottom edge: stop one supersampled pixel short.
        return x0, y0, max(x0, x1 - 1), max(y0, y1 - 1)

    def _w(self, width: float) -> int:
        if self.snap:
            width = max(1, round(width))
        return max(1, round(width * _SUPERSAMPLE))

    def ellipse(
        self,
        box: tuple[float, float, float, float],
        fill: Rgba | None = None,
        outline: Rgba | None = None,
        width: float = 1,
    ) -> None:
        self.draw.ellipse(self._box(box), fill=fill, outline=outline, width=self._w(width))

    def rect(self, box: tuple[float, float, float, float], fill: Rgba, radius: float = 0) -> None:
        scaled = self._box(box)
        if radius > 0:
            self.draw.rounded_rectangle(scaled, radius=radius * _SUPERSAMPLE, fill=fill)
        else:
            self.draw.rectangle(scaled, fill=fill)

    def polygon(self, points: list[tuple[float, float]], fill: Rgba) -> None:
        self.draw.polygon([(self._v(x), self._v(y)) for x, y in points], fill=fill)

    def arc(
        self,
        box: tuple[float, float, float, float],
        start: float,
        end: float,
        fill: Rgba,
        width: float,
    ) -> None:
        self.draw.arc(self._box(box), start, end, fill=fill, width=self._w(width))

    def pieslice(
        self, box: tuple[float, float, float, float], start: float, end: float, fill: Rgba
    ) -> None:
        self.draw.pieslice(self._box(box), start, end, fill=fill)

    def finish(self) -> Image.Image:
        return self.image.resize((self.size, self.size), Image.Resampling.BOX)


def draw_icon(state: UiState, size: int, *, demo: bool = False) -> Image.Image:
    """Draw the tray picture for ``state`` at ``size`` x ``size`` pixels.

    Args:
        state: What Segue is doing.
        size: Edge length in pixels (16, 22, 24, 32, 48, 64... anything from 8 to 1024).
        demo: Add the demo badge (Segue runs against the simulated Spotify).

    Returns:
        An RGBA image with a transparent background.

    Raises:
        ValueError: ``size`` is out of range.
    """
    if not MIN_SIZE <= size <= MAX_SIZE:
        raise ValueError(f"icon size must be {MIN_SIZE}..{MAX_SIZE} px, not {size}")
    canvas = _Canvas(size)
    s = float(size)
    margin = 0.0 if size < _SNAP else s * 0.03
    disc = (margin, margin, s - margin, s - margin)
    canvas.ellipse(disc, fill=STATE_COLOURS[state])
    _GLYPHS[state](canvas, s)
    if demo:
        _badge(canvas, s)
    return canvas.finish()


def _note(canvas: _Canvas, s: float) -> None:
    """A quaver: an oval head, a stem and (from 20 px) a flag."""
    stem_w = max(2.0, s * 0.08)
    stem_x = s * 0.52
    right = stem_x + stem_w
    head = (right - s * 0.34, s * 0.56, right, s * 0.56 + max(4.0, s * 0.22))
    canvas.ellipse(head, fill=WHITE)
    canvas.rect((stem_x, s * 0.22, stem_x + stem_w, s * 0.68), fill=WHITE)
    if s >= _SMALL:
        canvas.polygon(
            [(right, s * 0.22), (s * 0.74, s * 0.34), (s * 0.74, s * 0.46), (right, s * 0.36)],
            fill=WHITE,
        )


def _microphone(canvas: _Canvas, s: float) -> None:
    """A microphone: a capsule on a stand (the U-shaped holder from 20 px)."""
    c = s / 2
    half = max(2.0, s * 0.11)
    canvas.rect((c - half, s * 0.16, c + half, s * 0.56), fill=WHITE, radius=half)
    line = max(1.0, s * 0.05)
    if s >= _SMALL:
        canvas.arc((c - s * 0.2, s * 0.26, c + s * 0.2, s * 0.66), 0, 180, fill=WHITE, width=line)
    stem_half = max(1.0, s * 0.03)
    canvas.rect((c - stem_half, s * 0.62, c + stem_half, s * 0.8), fill=WHITE)
    canvas.rect((c - s * 0.15, s * 0.76, c + s * 0.15, s * 0.8 + line / 2), fill=WHITE)


def _dots(canvas: _Canvas, s: float) -> None:
    """Three dots in a row: working on it."""
    c = s / 2
    if s < _SNAP:
        # Whole-pixel squares with whole-pixel gaps, or the dots run together.
        dot = max(2, round(s * 0.13))
        left = round(c - 5 * dot / 2)
        top = round(c - dot / 2)
        for i in range(3):
            px = left + 2 * i * dot
            canvas.rect((px, top, px + dot, top + dot), fill=_THINKING_DOTS)
        return
    r = s * 0.08
    for dx in (-0.25, 0.0, 0.25):
        x = c + dx * s
        canvas.ellipse((x - r, c - r, x + r, c + r), fill=_THINKING_DOTS)


def _speaker(canvas: _Canvas, s: float) -> None:
    """A speaker with two sound waves; below 20 px, three sound bars."""
    c = s / 2
    if s < _SMALL:
        bar = max(2.0, round(s * 0.14))
        gap = max(1.0, round(s * 0.07))
        heights = (0.3, 0.56, 0.3)
        left = c - (3 * bar + 2 * gap) / 2
        for i, height in enumerate(heights):
            x = left + i * (bar + gap)
            canvas.rect((x, c - s * height / 2, x + bar, c + s * height / 2), fill=WHITE)
        return
    canvas.rect((s * 0.2, s * 0.4, s * 0.33, s * 0.6), fill=WHITE)
    canvas.polygon(
        [(s * 0.32, s * 0.4), (s * 0.47, s * 0.26), (s * 0.47, s * 0.74), (s * 0.32, s * 0.6)],
        fill=WHITE,
    )
    line = max(1.5, s * 0.06)
    for radius in (0.14, 0.27):
        box = (s * (0.47 - radius), c - s * radius, s * (0.47 + radius), c + s * radius)
        canvas.arc(box, -50, 50, fill=WHITE, width=line)


def _exclamation(canvas: _Canvas, s: float) -> None:
    """A red ring and a white exclamation mark."""
    ring = max(1.5, s * 0.08)
    margin = 0.0 if s < _SNAP else s * 0.03
    canvas.ellipse((margin, margin, s - margin, s - margin), outline=_ERROR_RING, width=ring)
    c = s / 2
    half = max(1.0, s * 0.065)
    canvas.rect((c - half, s * 0.2, c + half, s * 0.56), fill=WHITE, radius=half * 0.6)
    dot = max(1.0, s * 0.07)
    canvas.ellipse((c - dot, s * 0.74 - dot, c + dot, s * 0.74 + dot), fill=WHITE)


def _badge(canvas: _Canvas, s: float) -> None:
    """The demo badge: a purple square in the bottom-right corner, a "D" on it from 24 px."""
    b = max(6.0, round(s * 0.42))
    left, top = s - b, s - b
    border = max(1.0, b * 0.09)
    canvas.rect((left, top, s, s), fill=WHITE, radius=b * 0.22)
    canvas.rect((left + border, top + border, s - border, s - border), fill=_BADGE, radius=b * 0.16)
    if s < _SNAP:
        return
    # "D": a stem and a half-ellipse bowl, then the inside cut out in the badge colour.
    x0, x1 = left + b * 0.3, left + b * 0.74
    y0, y1 = top + b * 0.22, top + b * 0.78
    stroke = b * 0.13
    width = x1 - x0
    canvas.rect((x0, y0, x0 + width * 0.35, y1), fill=WHITE)
    canvas.pieslice((x1 - 2 * width * 0.65, y0, x1, y1), -90, 90, fill=WHITE)
    inner_x0 = x0 + stroke
    canvas.rect((inner_x0, y0 + stroke, x0 + width * 0.35, y1 - stroke), fill=_BADGE)
    canvas.pieslice(
        (x1 - 2 * width * 0.65 + stroke, y0 + stroke, x1 - stroke, y1 - stroke),
        -90,
        90,
        fill=_BADGE,
    )


_GLYPHS = {
    UiState.IDLE: _note,
    UiState.LISTENING: _microphone,
    UiState.THINKING: _dots,
    UiState.SPEAKING: _speaker,
    UiState.ERROR: _exclamation,
}

"""The tray pictures: exact sizes, transparent corners, every state different, a visible badge."""

from __future__ import annotations

import itertools

import pytest
from PIL import Image, ImageChops

from assistant.desktop.icons import STATE_COLOURS, WHITE, draw_icon
from assistant.desktop.state import UiState

SIZES = (16, 22, 24, 32, 48, 64)


def changed_pixels(a: Image.Image, b: Image.Image, threshold: int = 48) -> int:
    """How many pixels differ clearly (any RGBA channel by more than ``threshold``)."""
    bands = ImageChops.difference(a, b).split()
    largest = bands[0]
    for band in bands[1:]:
        largest = ImageChops.lighter(largest, band)
    return sum(largest.histogram()[threshold + 1 :])


def crisp_share(icon: Image.Image, state: UiState) -> float:
    """The share of pixels that are fully transparent or exactly one of the icon's colours."""
    colours = [STATE_COLOURS[state], WHITE, (66, 42, 0), (229, 57, 53)]
    crisp = 0
    for y in range(icon.height):
        for x in range(icon.width):
            pixel = icon.getpixel((x, y))
            assert isinstance(pixel, tuple)
            exact = any(all(abs(pixel[i] - c[i]) <= 8 for i in range(3)) for c in colours)
            crisp += pixel[3] == 0 or (pixel[3] == 255 and exact)
    return crisp / (icon.width * icon.height)


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("demo", [False, True])
def test_icons_are_drawn_at_the_size_asked_with_a_transparent_background(
    size: int, demo: bool
) -> None:
    for state in UiState:
        icon = draw_icon(state, size, demo=demo)
        assert icon.size == (size, size)
        assert icon.mode == "RGBA"
        assert icon.getpixel((0, 0))[3] == 0  # the top-left corner is outside the disc
        assert icon.getpixel((size - 1, 0))[3] == 0


@pytest.mark.parametrize("size", SIZES)
def test_every_state_looks_different_from_every_other(size: int) -> None:
    icons = {state: draw_icon(state, size) for state in UiState}
    # Clearly different: at least a tenth of the picture changes between any two states.
    for first, second in itertools.combinations(UiState, 2):
        assert changed_pixels(icons[first], icons[second]) >= size * size // 10, (first, second)


@pytest.mark.parametrize("size", SIZES)
def test_each_state_wears_its_own_colour(size: int) -> None:
    for state, colour in STATE_COLOURS.items():
        icon = draw_icon(state, size)
        centre_row = [icon.getpixel((x, size // 4)) for x in range(size)]
        assert any(
            all(abs(p[i] - colour[i]) < 24 for i in range(3)) and p[3] == 255 for p in centre_row
        ), state


@pytest.mark.parametrize("size", SIZES)
def test_the_demo_badge_changes_the_bottom_right_corner(size: int) -> None:
    for state in UiState:
        plain = draw_icon(state, size)
        demo = draw_icon(state, size, demo=True)
        corner = (size * 6 // 10, size * 6 // 10, size, size)
        assert changed_pixels(plain.crop(corner), demo.crop(corner)) >= (size * size) // 20
        top_left = (0, 0, size // 2, size // 2)
        assert changed_pixels(plain.crop(top_left), demo.crop(top_left)) == 0


def test_small_icons_are_drawn_for_their_size_not_scaled_down() -> None:
    for state in UiState:
        native = draw_icon(state, 16)
        scaled = draw_icon(state, 64).resize((16, 16), Image.Resampling.BOX)
        # A scaled-down picture blurs into half-transparent edges and mixed colours; the one
        # drawn at 16 px sits on whole pixels: most of it is exactly its own colours.
        assert crisp_share(native, state) >= 0.7, state
        assert crisp_share(native, state) > crisp_share(scaled, state) + 0.1, state


def test_sizes_out_of_range_are_refused() -> None:
    with pytest.raises(ValueError, match="icon size"):
        draw_icon(UiState.IDLE, 4)
    with pytest.raises(ValueError, match="icon size"):
        draw_icon(UiState.IDLE, 4096)

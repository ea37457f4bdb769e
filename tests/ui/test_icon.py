"""The tray icon: drawn for every state and size, transparent, and states told apart at 16 px."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from PIL import Image, ImageChops

from traycred.ui.icon import STANDARD_SIZES, IconState, app_icon, draw_icon, main

REPO = Path(__file__).resolve().parents[2]
BADGED = [s for s in IconState if s is not IconState.IDLE]


def _on(background: tuple[int, int, int], image: Image.Image) -> Image.Image:
    base = Image.new("RGBA", image.size, (*background, 255))
    base.alpha_composite(image)
    return base.convert("RGB")


def _differing_pixels(a: Image.Image, b: Image.Image, threshold: int = 60) -> int:
    diff = ImageChops.difference(a, b).convert("L")
    return diff.point(lambda v: 255 if v > threshold else 0).histogram()[255]


@pytest.mark.parametrize("size", STANDARD_SIZES)
@pytest.mark.parametrize("state", list(IconState))
def test_every_state_and_size_is_drawn_with_a_transparent_background(
    state: IconState, size: int
) -> None:
    image = draw_icon(state, size)
    assert image.mode == "RGBA"
    assert image.size == (size, size)
    alpha = image.getchannel("A")
    # Transparent corner (top-left is outside the key and the badge) and a solid glyph.
    assert alpha.getpixel((0, 0)) == 0
    histogram = alpha.histogram()
    # Edges are anti-aliased, so "see-through" means nearly transparent.
    transparent, opaque = sum(histogram[:16]), sum(histogram[250:])
    assert transparent > size * size * 0.25
    assert opaque > size * size * 0.2


@pytest.mark.parametrize("size", STANDARD_SIZES)
def test_states_differ_from_each_other_at_every_size(size: int) -> None:
    for a, b in itertools.combinations(IconState, 2):
        changed = _differing_pixels(draw_icon(a, size), draw_icon(b, size))
        assert changed >= max(4, size * size // 40), (a, b, size, changed)


@pytest.mark.parametrize("size", [16, 22, 32])
def test_badges_differ_without_colour(size: int) -> None:
    """Grey-scale panels and colour-blind users: the glyphs alone must tell states apart."""
    for a, b in itertools.combinations(BADGED, 2):
        grey_a = _on((128, 128, 128), draw_icon(a, size)).convert("L")
        grey_b = _on((128, 128, 128), draw_icon(b, size)).convert("L")
        # Normalise each badge's brightness so only the glyph's shape can make a difference.
        changed = _differing_pixels(_glyph_mask(grey_a), _glyph_mask(grey_b), threshold=0)
        assert changed >= 8, (a, b, size, changed)


def _glyph_mask(grey: Image.Image) -> Image.Image:
    """The badge's brightest or darkest marks (the glyph), as black and white."""
    w, h = grey.size
    badge = grey.crop((w // 2, h // 2, w, h))
    lo, hi = badge.getextrema()
    mid = (lo + hi) / 2
    return badge.point(lambda v: 255 if v > mid else 0)


@pytest.mark.parametrize("background", [(255, 255, 255), (20, 20, 24)])
@pytest.mark.parametrize("state", list(IconState))
def test_icon_stands_out_on_light_and_dark_panels(
    state: IconState, background: tuple[int, int, int]
) -> None:
    size = 22
    shown = _on(background, draw_icon(state, size)).convert("L")
    panel = Image.new("L", (size, size), round(sum(background) / 3))
    contrasting = _differing_pixels(shown, panel, threshold=80)
    assert contrasting > size * size * 0.15, (state, background, contrasting)


def test_rendered_icons_are_cached_and_sizes_checked() -> None:
    assert draw_icon(IconState.FRESH, 32) is draw_icon(IconState.FRESH, 32)
    assert draw_icon(IconState("error"), 24) is draw_icon(IconState.ERROR, 24)
    with pytest.raises(ValueError, match="too small"):
        draw_icon(IconState.FRESH, 4)


@pytest.mark.parametrize("size", [16, 48, 256])
def test_app_icon_is_an_opaque_rounded_square(size: int) -> None:
    image = app_icon(size)
    assert image.size == (size, size)
    alpha = image.getchannel("A")
    assert alpha.getpixel((size // 2, size // 2)) == 255
    assert alpha.getpixel((0, 0)) < 64  # rounded corner
    assert _differing_pixels(image, draw_icon(IconState.IDLE, size)) > size * size // 4


def test_committed_icons_match_the_generator(tmp_path: Path) -> None:
    """assets/icons/ holds what `python -m traycred.ui.icon` draws today (regenerate if not)."""
    out = tmp_path / "icons"
    assert main(["--out", str(out)]) == 0
    names = sorted(p.name for p in out.iterdir())
    assert names == sorted(
        [f"traycred-{s.value}.png" for s in IconState] + ["traycred.png", "traycred-48.png"]
    )
    for name in names:
        fresh = Image.open(out / name).convert("RGBA")
        committed = Image.open(REPO / "assets" / "icons" / name).convert("RGBA")
        assert fresh.size == committed.size, name
        # A small tolerance absorbs resampling differences between Pillow versions.
        assert _differing_pixels(fresh, committed, threshold=24) <= fresh.width, name

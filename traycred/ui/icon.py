"""Draws the tray icon (a key with a state badge) and the app logo with Pillow; no Qt here.

Both the Qt and the pystray backends show these images, so this module must stay importable
without a GUI toolkit. Every shape is drawn on a supersampled canvas and scaled down, which keeps
edges smooth at 16 px and sharp at 256 px. States differ by glyph as well as colour (check, clock,
exclamation mark, cross, no badge), so they stay distinguishable for colour-blind users and on
monochrome panels; the key has a dark outline around a light fill, so it reads on light and dark
panels alike.

Regenerate the committed PNGs with `python -m traycred.ui.icon --out assets/icons`.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from PIL import Image

# Sizes the desktop and tray hosts ask for; anything else is drawn on demand.
STANDARD_SIZES = (16, 22, 24, 32, 48, 64, 256)

Rgba = tuple[int, int, int, int]
Point = tuple[float, float]


class IconState(StrEnum):
    """What the tray icon says at a glance (SPEC §4)."""

    FRESH = "fresh"  # every managed profile has valid credentials
    EXPIRING = "expiring"  # something expires soon and will need the user
    NEEDS_USER = "needs-user"  # an MFA code or an SSO sign-in is waiting
    ERROR = "error"  # a refresh failed
    IDLE = "idle"  # nothing is managed yet


@dataclass(frozen=True)
class _Palette:
    key_fill: Rgba
    key_outline: Rgba


@dataclass(frozen=True)
class _Badge:
    fill: Rgba
    ring: Rgba
    glyph: Rgba


_OUTLINE = (34, 30, 22, 255)
_KEY = _Palette(key_fill=(246, 197, 66, 255), key_outline=_OUTLINE)
_KEY_IDLE = _Palette(key_fill=(178, 184, 192, 255), key_outline=(46, 50, 56, 255))

_BADGES: dict[IconState, _Badge] = {
    IconState.FRESH: _Badge(fill=(34, 160, 80, 255), ring=(14, 80, 38, 255), glyph=(255,) * 4),
    IconState.EXPIRING: _Badge(
        fill=(250, 170, 30, 255), ring=(120, 70, 0, 255), glyph=(40, 26, 0, 255)
    ),
    IconState.NEEDS_USER: _Badge(
        fill=(40, 110, 235, 255), ring=(14, 48, 120, 255), glyph=(255,) * 4
    ),
    IconState.ERROR: _Badge(fill=(220, 40, 40, 255), ring=(110, 12, 12, 255), glyph=(255,) * 4),
}

_TRANSPARENT: Rgba = (0, 0, 0, 0)


class _Canvas:
    """A supersampled RGBA canvas addressed in unit coordinates (0..1 across the icon)."""

    def __init__(self, size: int) -> None:
        from PIL import Image, ImageDraw

        # Enough supersampling for smooth curves without slowing the 256 px logo down.
        self.scale = max(4, math.ceil(512 / size))
        self.size = size
        self.px = size * self.scale
        self.image = Image.new("RGBA", (self.px, self.px), _TRANSPARENT)
        self.draw = ImageDraw.Draw(self.image)

    def u(self, value: float) -> float:
        """Unit length -> canvas pixels."""
        return value * self.px

    def out_px(self, pixels: float) -> float:
        """Output pixels -> unit length, for strokes that must stay N pixels wide at any size."""
        return pixels / self.size

    def circle(self, centre: Point, radius: float, fill: Rgba) -> None:
        cx, cy = centre
        self.draw.ellipse(
            [self.u(cx - radius), self.u(cy - radius), self.u(cx + radius), self.u(cy + radius)],
            fill=fill,
        )

    def polygon(self, points: Sequence[Point], fill: Rgba) -> None:
        self.draw.polygon([(self.u(x), self.u(y)) for x, y in points], fill=fill)

    def stroke(self, points: Sequence[Point], width: float, fill: Rgba) -> None:
        """A polyline with round caps and joints, `width` in unit length."""
        pts = [(self.u(x), self.u(y)) for x, y in points]
        w = max(1, round(self.u(width)))
        self.draw.line(pts, fill=fill, width=w, joint="curve")
        for x, y in (pts[0], pts[-1]):
            r = w / 2
            self.draw.ellipse([x - r, y - r, x + r, y + r], fill=fill)

    def result(self) -> Image.Image:
        from PIL import Image

        return self.image.resize((self.size, self.size), Image.Resampling.LANCZOS)


@dataclass(frozen=True)
class _KeyGeometry:
    """A key lying along its own x axis (bow at the origin), placed by rotation + translation."""

    bow_centre: Point
    angle_deg: float  # direction of the blade, screen coordinates (y down)
    scale: float = 1.0

    def place(self, x: float, y: float) -> Point:
        a = math.radians(self.angle_deg)
        x, y = x * self.scale, y * self.scale
        cx, cy = self.bow_centre
        return (cx + x * math.cos(a) - y * math.sin(a), cy + x * math.sin(a) + y * math.cos(a))

    def rect(self, x0: float, x1: float, y0: float, y1: float, grow: float = 0.0) -> list[Point]:
        g = grow / self.scale
        corners = ((x0 - g, y0 - g), (x1 + g, y0 - g), (x1 + g, y1 + g), (x0 - g, y1 + g))
        return [self.place(x, y) for x, y in corners]


# The key in its own coordinates: bow radius, hole, shaft and two teeth (teeth point to +y,
# which is up-left once the key is turned, away from the badge).
_BOW_R = 0.215
_HOLE_R = 0.075
_SHAFT = (0.14, 0.66, -0.068, 0.068)
_TEETH = ((0.44, 0.52, 0.0, 0.20), (0.57, 0.66, 0.0, 0.16))


def _draw_key(canvas: _Canvas, geo: _KeyGeometry, palette: _Palette, outline: float) -> None:
    """Outline first (every piece grown by `outline`), then fills, so inner seams vanish."""
    bow = geo.place(0.0, 0.0)
    pieces = (_SHAFT, *_TEETH)
    canvas.circle(bow, _BOW_R * geo.scale + outline, palette.key_outline)
    for x0, x1, y0, y1 in pieces:
        canvas.polygon(geo.rect(x0, x1, y0, y1, grow=outline), palette.key_outline)
    canvas.circle(bow, _BOW_R * geo.scale, palette.key_fill)
    for x0, x1, y0, y1 in pieces:
        canvas.polygon(geo.rect(x0, x1, y0, y1), palette.key_fill)
    # The hole: an outlined ring around a see-through centre, offset towards the key's head.
    hole = geo.place(-0.06, 0.0)
    canvas.circle(hole, _HOLE_R * geo.scale + outline, palette.key_outline)
    canvas.circle(hole, _HOLE_R * geo.scale, _TRANSPARENT)


def _draw_badge(canvas: _Canvas, state: IconState, centre: Point, radius: float) -> None:
    badge = _BADGES[state]
    ring = canvas.out_px(1.0) if canvas.size < 48 else radius * 0.09
    # A transparent gap separates the badge from the key so both silhouettes stay readable.
    canvas.circle(centre, radius + max(canvas.out_px(1.0), radius * 0.14), _TRANSPARENT)
    canvas.circle(centre, radius, badge.ring)
    canvas.circle(centre, radius - ring, badge.fill)
    cx, cy = centre
    r = radius
    # Glyph strokes get thicker relative to the badge at small sizes, where a pixel is a lot.
    w = r * (0.34 if canvas.size <= 24 else 0.26)
    if state is IconState.FRESH:
        canvas.stroke(
            [
                (cx - 0.48 * r, cy + 0.02 * r),
                (cx - 0.12 * r, cy + 0.38 * r),
                (cx + 0.5 * r, cy - 0.34 * r),
            ],
            w,
            badge.glyph,
        )
    elif state is IconState.EXPIRING:
        canvas.stroke(
            [(cx, cy - 0.55 * r), (cx, cy), (cx + 0.42 * r, cy + 0.2 * r)], w, badge.glyph
        )
    elif state is IconState.NEEDS_USER:
        canvas.stroke([(cx, cy - 0.52 * r), (cx, cy + 0.1 * r)], w * 1.05, badge.glyph)
        canvas.circle((cx, cy + 0.5 * r), w * 0.62, badge.glyph)
    elif state is IconState.ERROR:
        d = 0.38 * r
        canvas.stroke([(cx - d, cy - d), (cx + d, cy + d)], w, badge.glyph)
        canvas.stroke([(cx - d, cy + d), (cx + d, cy - d)], w, badge.glyph)


def _outline_width(size: int) -> float:
    """The key outline in unit length: one output pixel or more, relatively thinner when big."""
    pixels = max(1.0, size / 22)
    return pixels / size


@lru_cache(maxsize=128)
def draw_icon(state: IconState, size: int = 64) -> Image.Image:
    """The tray icon for `state`, `size` x `size` RGBA on a transparent background.

    Cached per (state, size): callers must not modify the returned image (copy it first).
    """
    if size < 8:
        raise ValueError(f"icon size {size} px is too small; use at least 8 px")
    state = IconState(state)
    canvas = _Canvas(size)
    small = size <= 24
    # Bow top-right, blade down-left: the bottom-right corner stays free for the badge.
    geo = _KeyGeometry(bow_centre=(0.69, 0.31), angle_deg=135.0, scale=0.95 if not small else 1.0)
    palette = _KEY_IDLE if state is IconState.IDLE else _KEY
    _draw_key(canvas, geo, palette, _outline_width(size))
    if state is not IconState.IDLE:
        radius = 0.30 if small else 0.255
        _draw_badge(canvas, state, (1 - radius, 1 - radius), radius)
    return canvas.result()


@lru_cache(maxsize=16)
def app_icon(size: int = 256) -> Image.Image:
    """The product logo for the desktop entry, the About box and window icons.

    A gold key across a blue rounded square, with a refresh arc: "keys, kept fresh".
    """
    if size < 8:
        raise ValueError(f"icon size {size} px is too small; use at least 8 px")
    from PIL import Image

    canvas = _Canvas(size)
    # Vertical gradient, drawn as thin bands inside a rounded-square mask.
    top, bottom = (44, 98, 196), (22, 44, 104)
    gradient = Image.new("RGBA", (canvas.px, canvas.px))
    for row in range(canvas.px):
        t = row / max(1, canvas.px - 1)
        r, g, b = (round(a + (b - a) * t) for a, b in zip(top, bottom, strict=True))
        gradient.paste((r, g, b, 255), (0, row, canvas.px, row + 1))
    mask = Image.new("L", (canvas.px, canvas.px), 0)
    from PIL import ImageDraw

    inset, corner = 0.04, 0.2
    ImageDraw.Draw(mask).rounded_rectangle(
        (canvas.u(inset), canvas.u(inset), canvas.u(1 - inset), canvas.u(1 - inset)),
        radius=canvas.u(corner),
        fill=255,
    )
    canvas.image.paste(gradient, (0, 0), mask)

    # The refresh arc: a white ring, open at the top right, ending in an arrow head.
    centre, radius = (0.5, 0.5), 0.33
    stroke = 0.055
    start, end = -30.0, 250.0  # degrees, clockwise from 3 o'clock (PIL's convention)
    box = [canvas.u(c) for c in (0.5 - radius, 0.5 - radius, 0.5 + radius, 0.5 + radius)]
    white: Rgba = (255, 255, 255, 235)
    canvas.draw.arc(box, start, end, fill=white, width=round(canvas.u(stroke)))
    a = math.radians(end)
    # PIL draws the arc's width inwards from the box, so its centre line is half a stroke in.
    mid = radius - stroke / 2
    tip = (centre[0] + mid * math.cos(a), centre[1] + mid * math.sin(a))
    tangent = (-math.sin(a), math.cos(a))  # direction of travel (clockwise on screen)
    normal = (math.cos(a), math.sin(a))
    head = 0.09
    canvas.polygon(
        [
            (tip[0] + tangent[0] * head, tip[1] + tangent[1] * head),
            (
                tip[0] + normal[0] * head - tangent[0] * head * 0.3,
                tip[1] + normal[1] * head - tangent[1] * head * 0.3,
            ),
            (
                tip[0] - normal[0] * head - tangent[0] * head * 0.3,
                tip[1] - normal[1] * head - tangent[1] * head * 0.3,
            ),
        ],
        white,
    )
    # The key goes on its own layer so its see-through hole shows the blue, not the desktop.
    key_layer = _Canvas(size)
    geo = _KeyGeometry(bow_centre=(0.66, 0.34), angle_deg=135.0, scale=0.82)
    _draw_key(key_layer, geo, _KEY, max(canvas.out_px(1.0), 0.018))
    canvas.image.alpha_composite(key_layer.image)
    return canvas.result()


def icon_path_name(state: IconState) -> str:
    """File name of the committed PNG for `state`."""
    return f"traycred-{IconState(state).value}.png"


def write_assets(out: Path) -> list[Path]:
    """Write every state icon (64 px), the app logo (256 and 48 px) into `out`."""
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for state in IconState:
        path = out / icon_path_name(state)
        draw_icon(state, 64).save(path, optimize=True)
        written.append(path)
    for size, name in ((256, "traycred.png"), (48, "traycred-48.png")):
        path = out / name
        app_icon(size).save(path, optimize=True)
        written.append(path)
    return written


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m traycred.ui.icon", description="Write traycred's icon PNGs."
    )
    parser.add_argument("--out", type=Path, default=Path("assets/icons"), help="target folder")
    args = parser.parse_args(argv)
    for path in write_assets(args.out):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

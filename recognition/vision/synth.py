"""Synthetic plates and vehicle scenes for tests and the demo feed.

Everything is drawn with OpenCV and Pillow primitives and Pillow's bundled
default font (``ImageFont.load_default``); no third-party image or font file
is used. The scenes are simple but close enough to a photo of a car's rear
for the pretrained plate detector to fire on the plate.
"""

from __future__ import annotations

import functools
import random

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from .types import Box

STYLES = ("us", "eu", "br")

# Plate sizes in mm (width, height): US 12x6 in, EU 520x110, BR (Mercosul) 400x130.
_PLATE_MM = {"us": (305, 152), "eu": (520, 110), "br": (400, 130)}


@functools.lru_cache(maxsize=16)
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


def _text_image(
    text: str, height: int, color: tuple[int, int, int], bold: int, width: int | None = None
) -> Image.Image:
    """RGBA image of ``text`` scaled to exactly ``height`` px (and ``width`` if given)."""
    font = _font(96)
    x0, y0, x1, y1 = font.getbbox(text, stroke_width=bold)
    img = Image.new("RGBA", (int(x1 - x0 + 4), int(y1 - y0 + 4)), (0, 0, 0, 0))
    ImageDraw.Draw(img).text(
        (2 - x0, 2 - y0), text, font=font, fill=color + (255,), stroke_width=bold, stroke_fill=color + (255,)
    )
    w = width if width is not None else max(1, int(img.width * height / img.height))
    return img.resize((w, height), Image.Resampling.LANCZOS)


def _paste_centered(canvas: Image.Image, item: Image.Image, cx: float, cy: float) -> None:
    canvas.alpha_composite(item, (int(cx - item.width / 2), int(cy - item.height / 2)))


def render_plate(text: str, style: str = "us", seed: int = 0, width: int = 520) -> np.ndarray:
    """Render a plate reading ``text`` as a BGR image ``width`` pixels wide."""
    if style not in STYLES:
        raise ValueError(f"style must be one of {STYLES}, got {style!r}")
    rng = random.Random(seed)
    mw, mh = _PLATE_MM[style]
    w, h = width, round(width * mh / mw)
    text = text.upper()
    if style == "us":
        bg = (rng.randint(236, 252), rng.randint(236, 252), rng.randint(236, 252))
        ink = rng.choice([(20, 30, 110), (25, 25, 25), (110, 20, 20)])
        accent = rng.choice([(170, 20, 30), (20, 60, 150), (30, 100, 40)])
        img = Image.new("RGBA", (w, h), bg + (255,))
        d = ImageDraw.Draw(img)
        d.rounded_rectangle(
            (1, 1, w - 2, h - 2), radius=int(h * 0.08), outline=(60, 60, 60, 255), width=max(2, h // 60)
        )
        state = rng.choice(["DEMOLAND", "NEW STATE", "FREESTATE", "EXAMPLIA"])
        _paste_centered(img, _text_image(state, int(h * 0.15), accent, 1), w / 2, h * 0.15)
        chars = _text_image(text, int(h * 0.50), ink, 4, width=int(w * min(0.86, 0.125 * len(text))))
        _paste_centered(img, chars, w / 2, h * 0.54)
        slogan = rng.choice(["DRIVE SAFELY", "THE DEMO STATE", "SAMPLE PLATE"])
        _paste_centered(img, _text_image(slogan, int(h * 0.09), accent, 0), w / 2, h * 0.89)
    elif style == "eu":
        img = Image.new("RGBA", (w, h), (248, 248, 246, 255))
        d = ImageDraw.Draw(img)
        band = int(w * 0.08)
        d.rectangle((0, 0, band, h), fill=(30, 60, 160, 255))
        for k in range(12):  # ring of stars as dots
            a = 2 * np.pi * k / 12
            cx, cy, r = band / 2 + np.cos(a) * band * 0.25, h * 0.3 + np.sin(a) * band * 0.25, max(1, band // 20)
            d.ellipse((cx - r, cy - r, cx + r, cy + r), fill=(250, 210, 0, 255))
        _paste_centered(
            img, _text_image(rng.choice(["D", "NL", "F", "B"]), int(h * 0.25), (255, 255, 255), 1), band / 2, h * 0.75
        )
        d.rounded_rectangle((1, 1, w - 2, h - 2), radius=int(h * 0.1), outline=(20, 20, 20, 255), width=max(2, h // 25))
        chars = _text_image(text, int(h * 0.70), (15, 15, 15), 4, width=int((w - band) * min(0.88, 0.115 * len(text))))
        _paste_centered(img, chars, band + (w - band) / 2, h * 0.53)
    else:  # br: Mercosul layout, blue band with BRASIL on top
        img = Image.new("RGBA", (w, h), (246, 246, 246, 255))
        d = ImageDraw.Draw(img)
        band = int(h * 0.22)
        d.rectangle((0, 0, w, band), fill=(20, 50, 150, 255))
        _paste_centered(img, _text_image("BRASIL", int(band * 0.62), (255, 255, 255), 1), w / 2, band / 2)
        d.rounded_rectangle(
            (1, 1, w - 2, h - 2), radius=int(h * 0.08), outline=(20, 20, 20, 255), width=max(2, h // 30)
        )
        chars = _text_image(text, int(h * 0.55), (15, 15, 15), 4, width=int(w * min(0.88, 0.12 * len(text))))
        _paste_centered(img, chars, w / 2, band + (h - band) * 0.5)
    rgb = np.asarray(img.convert("RGB"))
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)


def _vertical_gradient(h: int, w: int, top: tuple[int, int, int], bottom: tuple[int, int, int]) -> np.ndarray:
    t = np.linspace(0.0, 1.0, h, dtype=np.float32)[:, None, None]
    col = np.array(top, np.float32) * (1 - t) + np.array(bottom, np.float32) * t
    return np.repeat(col, w, axis=1)


def _shade(color: tuple[int, int, int], f: float) -> tuple[int, int, int]:
    r, g, b = (int(max(0, min(255, c * f))) for c in color)
    return r, g, b


def render_vehicle_scene(
    plate_text: str | None,
    seed: int = 0,
    size: tuple[int, int] = (1280, 720),
    style: str = "us",
) -> tuple[np.ndarray, Box | None]:
    """Render a road scene with the rear of a car carrying a plate.

    Returns the BGR frame (``size`` = width, height) and the plate's box in
    frame pixels. With ``plate_text=None`` the car has an empty plate recess
    and no plate, and the box is ``None`` (a negative frame).
    """
    rng = random.Random(seed)
    W, H = size
    s = H / 720.0  # scale factor relative to the design size
    # Background: sky, buildings/trees band, road with lane marks.
    horizon = int(H * rng.uniform(0.30, 0.40))
    img = np.empty((H, W, 3), np.float32)
    img[:horizon] = _vertical_gradient(horizon, W, (235, 200, 150), (250, 235, 215))
    img[horizon:] = _vertical_gradient(H - horizon, W, (105, 105, 110), (70, 70, 75))
    frame: np.ndarray = np.clip(img, 0, 255).astype(np.uint8)
    for _ in range(rng.randint(5, 10)):  # buildings / trees on the horizon
        bx, bw = rng.randint(-50, W), rng.randint(60, 260)
        bh = int(rng.randint(40, 160) * s)
        color = (rng.randint(60, 160), rng.randint(70, 170), rng.randint(60, 160))
        cv2.rectangle(frame, (bx, horizon - bh), (bx + bw, horizon), color, -1)
    for lane in (-1.5, -0.5, 0.5, 1.5):  # dashed lane marks converging to the horizon
        x_far, x_near = W / 2 + lane * W * 0.05, W / 2 + lane * W * 0.55
        for k in range(0, 12, 2):
            t0, t1 = (k / 12) ** 1.6, ((k + 1) / 12) ** 1.6
            p0 = (int(x_far + (x_near - x_far) * t0), int(horizon + (H - horizon) * t0))
            p1 = (int(x_far + (x_near - x_far) * t1), int(horizon + (H - horizon) * t1))
            cv2.line(frame, p0, p1, (210, 210, 210), max(1, int(2 + 6 * t1 * s)), cv2.LINE_AA)

    # Car rear, centred with a random offset.
    cw = int(rng.uniform(480, 600) * s)
    ch = int(cw * rng.uniform(0.62, 0.72))
    cx = int(W / 2 + rng.uniform(-0.18, 0.18) * W)
    bottom = int(H * rng.uniform(0.90, 0.97))
    top = bottom - ch
    left, right = cx - cw // 2, cx + cw // 2
    body = rng.choice([(40, 40, 160), (150, 60, 30), (200, 200, 205), (30, 30, 30), (60, 120, 60), (170, 170, 60)])
    dark = _shade(body, 0.6)
    # shadow under the car
    cv2.ellipse(frame, (cx, bottom), (int(cw * 0.56), int(18 * s)), 0, 0, 360, (35, 35, 38), -1)
    # wheels
    wheel_w, wheel_h = int(cw * 0.14), int(ch * 0.20)
    for wx in (left + int(cw * 0.04), right - int(cw * 0.04) - wheel_w):
        cv2.rectangle(frame, (wx, bottom - wheel_h), (wx + wheel_w, bottom), (20, 20, 20), -1)
    # lower body and cabin
    roof_top = top
    belt = top + int(ch * 0.42)
    body_bottom = bottom - int(wheel_h * 0.55)
    radius = int(cw * 0.06)
    cv2.rectangle(frame, (left + radius, belt), (right - radius, body_bottom), body, -1)
    cv2.rectangle(frame, (left, belt + radius), (right, body_bottom - radius), body, -1)
    for ex, ey in (
        (left + radius, belt + radius),
        (right - radius, belt + radius),
        (left + radius, body_bottom - radius),
        (right - radius, body_bottom - radius),
    ):
        cv2.circle(frame, (ex, ey), radius, body, -1, cv2.LINE_AA)
    cabin = np.array(
        [
            (left + int(cw * 0.08), belt),
            (left + int(cw * 0.20), roof_top),
            (right - int(cw * 0.20), roof_top),
            (right - int(cw * 0.08), belt),
        ],
        np.int32,
    )
    cv2.fillConvexPoly(frame, cabin, body, cv2.LINE_AA)
    win = np.array(
        [
            (left + int(cw * 0.13), belt - int(ch * 0.03)),
            (left + int(cw * 0.23), roof_top + int(ch * 0.06)),
            (right - int(cw * 0.23), roof_top + int(ch * 0.06)),
            (right - int(cw * 0.13), belt - int(ch * 0.03)),
        ],
        np.int32,
    )
    cv2.fillConvexPoly(frame, win, (55, 45, 40), cv2.LINE_AA)
    cv2.line(
        frame,
        (left + int(cw * 0.25), roof_top + int(ch * 0.09)),
        (left + int(cw * 0.4), roof_top + int(ch * 0.09)),
        (120, 110, 105),
        max(1, int(3 * s)),
    )
    # tail lights
    lh = int(ch * 0.13)
    lw = int(cw * 0.17)
    ly = belt + int(ch * 0.05)
    for lx in (left + int(cw * 0.03), right - int(cw * 0.03) - lw):
        cv2.rectangle(frame, (lx, ly), (lx + lw, ly + lh), (30, 30, 200), -1)
        cv2.rectangle(frame, (lx + lw // 4, ly + lh // 4), (lx + lw * 3 // 4, ly + lh * 3 // 4), (90, 90, 240), -1)
    # trunk line and bumper
    cv2.line(
        frame, (left + int(cw * 0.22), ly + lh // 2), (right - int(cw * 0.22), ly + lh // 2), dark, max(1, int(2 * s))
    )
    bumper_y = body_bottom - int(ch * 0.14)
    cv2.rectangle(frame, (left, bumper_y), (right, body_bottom), _shade(body, 0.75), -1)
    cv2.line(frame, (left, bumper_y), (right, bumper_y), dark, max(1, int(2 * s)))

    # plate in a recess between the lights and the bumper
    pw = int(rng.uniform(140, 200) * s) if style == "us" else int(rng.uniform(170, 220) * s)
    mw, mh = _PLATE_MM[style]
    ph = round(pw * mh / mw)
    px = cx - pw // 2 + int(rng.uniform(-0.02, 0.02) * cw)
    py = bumper_y - ph - int(ch * 0.03)
    rec = int(6 * s)
    cv2.rectangle(frame, (px - rec, py - rec), (px + pw + rec, py + ph + rec), dark, -1)
    box: Box | None = None
    if plate_text is not None:
        plate = render_plate(plate_text, style=style, seed=seed, width=pw * 3)
        plate = cv2.resize(plate, (pw, ph), interpolation=cv2.INTER_AREA)
        frame[py : py + ph, px : px + pw] = plate
        cv2.circle(frame, (px + pw // 2, py + max(2, ph // 12)), max(1, int(2 * s)), (150, 150, 150), -1)
        box = Box(px, py, pw, ph)

    # camera effects: slight blur, brightness, sensor noise, JPEG-like softness
    k = rng.choice([1, 3])
    if k > 1:
        frame = cv2.GaussianBlur(frame, (k, k), 0)
    gain = rng.uniform(0.85, 1.1)
    noise = np.random.default_rng(seed).normal(0, rng.uniform(2, 5), frame.shape)
    frame = np.clip(frame.astype(np.float32) * gain + noise, 0, 255).astype(np.uint8)
    return frame, box


def random_plate_text(seed: int, style: str = "us") -> str:
    """A plausible plate string for ``style`` (US 7 chars, EU 2+2+3, BR AAA9A99)."""
    rng = random.Random(seed)
    letters = "ABCDEFGHJKLMNPRSTUVWXYZ"
    digits = "0123456789"
    if style == "br":
        # 5th place: a letter (Mercosul) or a digit (old series); no 0, which
        # the bundled font draws almost like O.
        fifth = rng.choice(letters + digits[1:])
        return (
            "".join(rng.choice(letters) for _ in range(3))
            + rng.choice(digits)
            + fifth
            + "".join(rng.choice(digits) for _ in range(2))
        )
    if style == "eu":
        return (
            "".join(rng.choice(letters) for _ in range(2))
            + "".join(rng.choice(digits) for _ in range(2))
            + "".join(rng.choice(letters) for _ in range(3))
        )
    return (
        rng.choice(digits)
        + "".join(rng.choice(letters) for _ in range(3))
        + "".join(rng.choice(digits) for _ in range(3))
    )

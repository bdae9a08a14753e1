"""Synthetic plate crops for training the CRNN recogniser.

Plates are drawn by this module with Pillow and OpenCV: US plates on the blank
state plates of ``../shared/data/us-plate-blanks``, EU and BR plates drawn
from scratch with the fonts of ``../shared/data/fonts``, then placed on a
street frame of ``../shared/data/backgrounds``, warped and cropped the way
the plate detector crops them, and degraded (blur, noise, glare, night/IR
looks, low contrast, JPEG). Nothing here is used at run time.
"""

from __future__ import annotations

import functools
import random
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
DIGITS = "0123456789"
IMAGE_EXTS = (".jpg", ".jpeg", ".png")

# Layouts: L letter, D digit, A either, space/dash are drawn but not labelled.
US_LAYOUTS = (
    "LLL DDDD",
    "DLLL DDD",
    "LLL DDD",
    "DDD LLL",
    "LL DDDDD",
    "DLL DDDD",
    "LLLDDDD",
    "DDDDDDD",
    "AAAAAAA",
    "AAAAAA",
    "AAAAA",
    "DAAADDD",
    "LLDDDDD",
    "DDDDLL",
    "LLLL DD",
    "LDDDDDD",
    "AAAA",
    "AAA AAA",
    "AAA AAAA",
    "AA AAAA",
    "LLD DLL",
    "LLD LDL",
    "DDD AAA",
    "D AAA DDD",
    "AAAA AAA",
)
EU_LAYOUTS = (
    "L LL DDDD",
    "LL L DDD",
    "LLL LL DD",
    "LL DDDD",
    "LL DDD LL",
    "LL-DDD-LL",
    "DD-LLL-D",
    "LL-DD-LL",
    "LLLDDDD",
    "LL DD LLL",
    "DLLL DDD",
    "LDDD LLL",
    "LLL DDDL",
    "LL DDDDD",
)
BR_LAYOUTS = ("LLL-DDDD", "LLL DDDD", "LLLDLDD")


def default_data_dir() -> Path:
    """``../shared/data`` next to the repository root."""
    return Path(__file__).resolve().parents[2] / "shared" / "data"


def random_text(layout: str, rng: random.Random) -> tuple[str, str]:
    """(drawn text, label) for a layout string."""
    out = []
    for k in layout:
        if k == "L":
            out.append(rng.choice(LETTERS))
        elif k == "D":
            out.append(rng.choice(DIGITS))
        elif k == "A":
            out.append(rng.choice(LETTERS + DIGITS))
        else:
            out.append(k)
    drawn = "".join(out)
    return drawn, "".join(c for c in drawn if c.isalnum())


# Background frames are used at most this many pixels on their longer side.
BACKGROUND_SIDE = 360


@dataclass
class SynthAssets:
    """Fonts, blank plates and background frames loaded once."""

    fonts: list[Path | str]
    blanks: list[np.ndarray]
    backgrounds: list[np.ndarray]

    @classmethod
    def load(cls, data_dir: Path | None = None, max_backgrounds: int = 400) -> SynthAssets:
        data_dir = data_dir or default_data_dir()
        fonts: list[Path | str] = [*sorted((data_dir / "fonts").glob("*.ttf")), PILLOW_FONT]
        blanks = [cv2.imread(str(p)) for p in sorted((data_dir / "us-plate-blanks").iterdir())]
        blanks = [b for b in blanks if b is not None]
        bgs = []
        for p in sorted((data_dir / "backgrounds").iterdir())[:max_backgrounds]:
            if p.suffix.lower() not in IMAGE_EXTS:
                continue
            im = cv2.imread(str(p))
            if im is None:
                continue
            s = BACKGROUND_SIDE / max(im.shape[:2])
            bgs.append(cv2.resize(im, None, fx=s, fy=s, interpolation=cv2.INTER_AREA) if s < 1 else im)
        if len(fonts) < 2 or not blanks or not bgs:
            raise FileNotFoundError(f"fonts, us-plate-blanks and backgrounds are needed under {data_dir}")
        return cls(fonts, blanks, bgs)


# Pillow's bundled font (Aileron), the one the project's test scenes and demo
# feed are drawn with (recognition.vision.synth); used beside the plate fonts
# so the recogniser also knows a plain sans-serif.
PILLOW_FONT = "pillow:default"


@functools.lru_cache(maxsize=64)
def _font(path: str, size: int) -> ImageFont.FreeTypeFont:
    if path == PILLOW_FONT:
        return ImageFont.load_default(size=size)  # type: ignore[return-value]
    return ImageFont.truetype(path, size)


def _text_patch(text: str, font_path: str, color: tuple[int, int, int], stroke: int) -> Image.Image:
    """RGBA image tightly around ``text`` drawn at 96 px."""
    font = _font(font_path, 96)
    x0, y0, x1, y1 = font.getbbox(text, stroke_width=stroke)
    img = Image.new("RGBA", (x1 - x0 + 4, y1 - y0 + 4), (0, 0, 0, 0))
    ImageDraw.Draw(img).text(
        (2 - x0, 2 - y0), text, font=font, fill=color + (255,), stroke_width=stroke, stroke_fill=color + (255,)
    )
    return img


def _place(canvas: Image.Image, patch: Image.Image, box: tuple[float, float, float, float]) -> None:
    """Resize ``patch`` into box (x0, y0, x1, y1) and composite it."""
    x0, y0, x1, y1 = (round(v) for v in box)
    canvas.alpha_composite(patch.resize((max(1, x1 - x0), max(1, y1 - y0)), Image.LANCZOS), (x0, y0))


def _gap_mark(height: int, ink: tuple[int, int, int], rng: random.Random, us: bool = False) -> Image.Image:
    """What sits between character groups.

    EU: nothing, a dash, stickers or a coat of arms. US plates also put a
    small filled mark there (a dot, square, diamond or state outline, as on
    California- or Georgia-style plates), which a recogniser must not read
    as a character (B, 8, 9, Q or X).
    """
    kinds = ["none", "dash", "stickers", "shield", "shield"]
    if us:
        kinds = ["none", "dash", "dot", "square", "diamond", "outline", "outline", "shield"]
    kind = rng.choice(kinds)
    w = int(height * rng.uniform(0.25, 0.6)) if kind != "none" else int(height * rng.uniform(0.1, 0.4))
    img = Image.new("RGBA", (max(2, w), height), (0, 0, 0, 0))
    d = ImageDraw.Draw(img)
    cy = height * rng.uniform(0.4, 0.6)
    r = min(w * 0.45, height * rng.uniform(0.08, 0.2))
    colour = (
        ink + (255,) if rng.random() < 0.6 else (rng.randint(40, 220), rng.randint(20, 200), rng.randint(20, 200), 255)
    )
    if kind == "dash":
        d.rectangle((w * 0.15, height * 0.45, w * 0.85, height * 0.55), fill=ink + (255,))
    elif kind == "dot":
        d.ellipse((w / 2 - r, cy - r, w / 2 + r, cy + r), fill=colour)
    elif kind == "square":
        d.rectangle((w / 2 - r, cy - r, w / 2 + r, cy + r), fill=colour)
    elif kind == "diamond":
        d.polygon([(w / 2, cy - r * 1.3), (w / 2 + r, cy), (w / 2, cy + r * 1.3), (w / 2 - r, cy)], fill=colour)
    elif kind == "outline":  # an irregular blob standing for a state or an emblem
        n = rng.randint(5, 9)
        big = r * rng.uniform(1.0, 1.8)
        pts = [
            (
                w / 2 + np.cos(2 * np.pi * k / n) * big * rng.uniform(0.5, 1.0),
                cy + np.sin(2 * np.pi * k / n) * big * rng.uniform(0.6, 1.4),
            )
            for k in range(n)
        ]
        d.polygon(pts, fill=colour)
    elif kind == "stickers":  # two round stickers stacked (German plates)
        r = w * 0.42
        for cy in (height * 0.28, height * 0.72):
            col = (rng.randint(60, 230), rng.randint(60, 230), rng.randint(60, 230), 255)
            d.ellipse((w / 2 - r, cy - r, w / 2 + r, cy + r), fill=col, outline=ink + (255,))
    elif kind == "shield":  # a coat of arms, with marks inside and a small code under it
        col = (rng.randint(90, 220), rng.randint(30, 200), rng.randint(30, 200), 255)
        top, bottom = height * rng.uniform(0.1, 0.3), height * rng.uniform(0.55, 0.75)
        d.polygon(
            [
                (w * 0.1, top),
                (w * 0.9, top),
                (w * 0.9, (top + bottom) / 2),
                (w * 0.5, bottom),
                (w * 0.1, (top + bottom) / 2),
            ],
            fill=col,
            outline=ink + (255,),
        )
        d.line((w * 0.5, top + 2, w * 0.5, bottom - 3), fill=(240, 240, 240, 255), width=max(1, w // 8))
        d.line(
            (w * 0.25, (top + bottom) / 2.2, w * 0.75, (top + bottom) / 2.2),
            fill=(240, 240, 240, 255),
            width=max(1, w // 8),
        )
        if rng.random() < 0.5:
            d.rectangle((w * 0.25, bottom + height * 0.05, w * 0.75, bottom + height * 0.15), fill=ink + (255,))
    return img


def glyph_patch(
    text: str, sheet: dict[str, list[np.ndarray]], ink: tuple[int, int, int], gap: float, rng: random.Random
) -> Image.Image:
    """RGBA image of ``text`` set from real characters (``sheet``: character -> ink images, as
    :func:`training.synth_countries.glyph_sheet` gives), each scaled to 96 px, ``gap`` (a fraction
    of the height) apart."""
    height, pad = 96, 2
    pieces = []
    for char in text:
        glyph = rng.choice(sheet[char])
        width = max(1, round(glyph.shape[1] * height / glyph.shape[0]))
        shrink = glyph.shape[0] > height
        pieces.append(cv2.resize(glyph, (width, height), interpolation=cv2.INTER_AREA if shrink else cv2.INTER_CUBIC))
    space = round(gap * height)
    alpha = np.zeros(
        (height + 2 * pad, sum(p.shape[1] for p in pieces) + space * (len(pieces) - 1) + 2 * pad), np.uint8
    )
    x = pad
    for piece in pieces:
        alpha[pad : pad + height, x : x + piece.shape[1]] = piece
        x += piece.shape[1] + space
    rgba = np.dstack([np.full_like(alpha, c) for c in ink] + [alpha])
    return Image.fromarray(rgba, "RGBA")


def _grouped_text(
    drawn: str,
    font_path: str,
    ink: tuple[int, int, int],
    stroke: int,
    rng: random.Random,
    us: bool = False,
    glyphs: dict[str, list[np.ndarray]] | None = None,
) -> Image.Image:
    """Character groups (split at spaces and dashes) laid out with marks between them; set from
    the real characters of ``glyphs`` when given (it must hold every character), else in the font."""
    groups = [g for g in drawn.replace("-", " ").split(" ") if g]
    if glyphs:
        gap = rng.uniform(0.05, 0.16)
        patches = [glyph_patch(g, glyphs, ink, gap, rng) for g in groups]
    else:
        patches = [_text_patch(g, font_path, ink, stroke) for g in groups]
    height = max(p.height for p in patches)
    parts: list[Image.Image] = []
    for i, p in enumerate(patches):
        if i:
            parts.append(_gap_mark(height, ink, rng, us=us))
        parts.append(p.resize((max(1, int(p.width * height / p.height)), height), Image.LANCZOS))
    out = Image.new("RGBA", (sum(p.width for p in parts), height), (0, 0, 0, 0))
    x = 0
    for p in parts:
        out.alpha_composite(p, (x, 0))
        x += p.width
    return out


def _text_font(assets: SynthAssets, rng: random.Random) -> str:
    return str(rng.choice(assets.fonts))


def _small_text(rng: random.Random) -> str:
    words = ["STATE", "DRIVE", "SAFE", "LAND", "OF", "THE", "GREAT", "SUNSHINE", "COUNTY", "BRASIL", "SP", "RJ"]
    return " ".join(rng.choice(words) for _ in range(rng.randint(1, 3)))


# Ink of the characters on a US blank: dark on a light plate, light on a dark one (Vermont's
# green, Delaware's blue and Indiana's navy blanks carry white characters). Five inks each, so
# that a draw takes the same number of random numbers on every blank.
US_DARK_INKS = ((20, 30, 110), (25, 25, 25), (120, 20, 20), (20, 70, 30), (10, 10, 60))
US_LIGHT_INKS = ((245, 245, 245), (235, 235, 225), (250, 240, 200), (225, 230, 240), (255, 255, 255))
US_LIGHT_INK_BELOW = 110  # mean grey level of the number's area under which the ink is light


def us_inks(bg_rgb: np.ndarray) -> tuple[tuple[int, int, int], ...]:
    """The inks a number may be drawn in on this blank (RGB, 400x200): by the mean grey level of
    the area the number covers."""
    h, w = bg_rgb.shape[:2]
    area = cv2.cvtColor(bg_rgb[int(h * 0.3) : int(h * 0.75), int(w * 0.05) : int(w * 0.95)], cv2.COLOR_RGB2GRAY)
    return US_LIGHT_INKS if float(area.mean()) < US_LIGHT_INK_BELOW else US_DARK_INKS


def render_us(assets: SynthAssets, drawn: str, rng: random.Random, info: dict | None = None) -> np.ndarray:
    """A clean BGR US plate showing ``drawn``; ``info``, when given, gets ``char_px``: the height
    of its characters in the plate's pixels."""
    blank = rng.choice(assets.blanks)
    w, h = 400, 200
    bg = cv2.cvtColor(cv2.resize(blank, (w, h), interpolation=cv2.INTER_CUBIC), cv2.COLOR_BGR2RGB)
    img = Image.fromarray(bg).convert("RGBA")
    ink = rng.choice(us_inks(bg))
    if " " in drawn and rng.random() < 0.7:  # a mark or emblem between the groups
        patch = _grouped_text(drawn, _text_font(assets, rng), ink, rng.choice([0, 1, 2, 3]), rng, us=True)
    else:
        patch = _text_patch(drawn, _text_font(assets, rng), ink, rng.choice([0, 1, 2, 3]))
    ch = h * rng.uniform(0.38, 0.55)
    if info is not None:
        info["char_px"] = ch
    cw = min(w * 0.92, ch * patch.width / patch.height * rng.uniform(0.75, 1.25))
    cx, cy = w / 2 + rng.uniform(-0.04, 0.04) * w, h * rng.uniform(0.48, 0.58)
    _place(img, patch, (cx - cw / 2, cy - ch / 2, cx + cw / 2, cy + ch / 2))
    if rng.random() < 0.3:  # a sticker or emblem in a corner
        d = ImageDraw.Draw(img)
        sx = rng.choice([0.03, 0.82]) * w
        d.rectangle((sx, h * 0.05, sx + w * 0.14, h * 0.22), fill=(rng.randint(0, 255), rng.randint(0, 255), 40, 255))
    if rng.random() < 0.3:  # dealer frame text along the bottom
        frame = _text_patch(_small_text(rng), _text_font(assets, rng), (240, 240, 240), 0)
        d = ImageDraw.Draw(img)
        d.rectangle((0, h * 0.86, w, h), fill=(20, 20, 20, 255))
        _place(img, frame, (w * 0.25, h * 0.88, w * 0.75, h * 0.98))
    return cv2.cvtColor(np.asarray(img.convert("RGB")), cv2.COLOR_RGB2BGR)


def render_eu(assets: SynthAssets, drawn: str, rng: random.Random) -> np.ndarray:
    w, h = 520, 110
    paper = rng.choice([(245, 245, 242), (250, 250, 250), (250, 205, 20)])  # white or yellow (NL/UK rear)
    img = Image.new("RGBA", (w, h), paper + (255,))
    d = ImageDraw.Draw(img)
    band = int(w * 0.08) if rng.random() < 0.85 else 0
    if band:
        d.rectangle((0, 0, band, h), fill=(rng.randint(10, 90), rng.randint(30, 120), rng.randint(110, 220), 255))
        for k in range(12):
            a = 2 * np.pi * k / 12
            cx, cy = band / 2 + np.cos(a) * band * 0.28, h * 0.3 + np.sin(a) * band * 0.28
            d.ellipse((cx - 2, cy - 2, cx + 2, cy + 2), fill=(250, 210, 0, 255))
        code = _text_patch(
            rng.choice(["D", "NL", "F", "B", "I", "PL", "CZ", "A", "E", "L", "SK", "H", "SLO", "HR"]),
            _text_font(assets, rng),
            (255, 255, 255),
            rng.choice([0, 1]),
        )
        top = h * rng.uniform(0.5, 0.62)
        _place(img, code, (band * 0.12, top, band * 0.88, min(h * 0.95, top + h * rng.uniform(0.25, 0.4))))
    d.rounded_rectangle((1, 1, w - 2, h - 2), radius=8, outline=(20, 20, 20, 255), width=rng.choice([2, 3, 4]))
    patch = _grouped_text(drawn, _text_font(assets, rng), (15, 15, 15), rng.choice([0, 0, 1]), rng)
    ch = h * rng.uniform(0.62, 0.78)
    avail = w - band - 20
    cw = min(avail, ch * patch.width / patch.height * rng.uniform(0.85, 1.15))
    cx = band + 10 + avail / 2
    _place(img, patch, (cx - cw / 2, h * 0.52 - ch / 2, cx + cw / 2, h * 0.52 + ch / 2))
    return cv2.cvtColor(np.asarray(img.convert("RGB")), cv2.COLOR_RGB2BGR)


def render_br(assets: SynthAssets, drawn: str, rng: random.Random, info: dict | None = None) -> np.ndarray:
    """A clean BGR Brazilian plate (Mercosul or the older grey one); ``info`` as in :func:`render_us`."""
    w, h = 400, 130
    # a Mercosur plate (blue BRASIL band) always carries a Mercosur number (LLLDLDD: the old
    # numbers were converted when cars got the new plate, CONTRAN Resolução 780/2019); the
    # grey plate an old one (LLL-DDDD)
    mercosul = "-" not in drawn and not drawn[4].isdigit()
    if mercosul:
        img = Image.new("RGBA", (w, h), (246, 246, 246, 255))
        d = ImageDraw.Draw(img)
        band = int(h * 0.22)
        d.rectangle((0, 0, w, band), fill=(20, 50, 150, 255))
        _place(
            img,
            _text_patch("BRASIL", _text_font(assets, rng), (255, 255, 255), 0),
            (w * 0.4, band * 0.15, w * 0.6, band * 0.85),
        )
        top = band
    else:  # old grey plate with the city name on top
        grey = rng.randint(150, 215)
        img = Image.new("RGBA", (w, h), (grey, grey, grey, 255))
        d = ImageDraw.Draw(img)
        _place(
            img,
            _text_patch(_small_text(rng), _text_font(assets, rng), (30, 30, 30), 0),
            (w * 0.25, h * 0.04, w * 0.75, h * 0.2),
        )
        top = int(h * 0.2)
    d.rounded_rectangle((1, 1, w - 2, h - 2), radius=8, outline=(20, 20, 20, 255), width=3)
    patch = _text_patch(drawn, _text_font(assets, rng), (15, 15, 15), rng.choice([0, 1, 2]))
    ch = (h - top) * rng.uniform(0.68, 0.82)
    if info is not None:
        info["char_px"] = ch
    cw = min(w * 0.92, ch * patch.width / patch.height * rng.uniform(0.85, 1.2))
    cy = top + (h - top) * 0.5
    _place(img, patch, (w / 2 - cw / 2, cy - ch / 2, w / 2 + cw / 2, cy + ch / 2))
    return cv2.cvtColor(np.asarray(img.convert("RGB")), cv2.COLOR_RGB2BGR)


def add_frame_and_bolts(plate: np.ndarray, rng: random.Random) -> np.ndarray:
    """A plate holder frame around the plate and bolt heads near the edges (each sometimes)."""
    out = plate
    h = out.shape[0]
    if rng.random() < 0.5:
        t = int(h * rng.uniform(0.03, 0.12))
        v = rng.randint(0, 90) if rng.random() < 0.7 else rng.randint(150, 230)
        out = cv2.copyMakeBorder(out, t, int(t * rng.uniform(1, 2.5)), t, t, cv2.BORDER_CONSTANT, value=(v, v, v))
    if rng.random() < 0.4:
        out = out.copy()
        r = max(2, int(h * rng.uniform(0.03, 0.06)))
        y = int(out.shape[0] * rng.uniform(0.08, 0.2))
        for x in (int(out.shape[1] * rng.uniform(0.15, 0.3)), int(out.shape[1] * rng.uniform(0.7, 0.85))):
            v = rng.randint(80, 230)
            cv2.circle(out, (x, y), r, (v, v, v), -1, cv2.LINE_AA)
    return out


def render_random_plate(assets: SynthAssets, rng: random.Random) -> tuple[np.ndarray, str, str]:
    """(clean BGR plate, label, style) with a random style and text."""
    style = rng.choices(("us", "eu", "br"), weights=(0.40, 0.42, 0.18))[0]
    layout = rng.choice({"us": US_LAYOUTS, "eu": EU_LAYOUTS, "br": BR_LAYOUTS}[style])
    drawn, label = random_text(layout, rng)
    render = {"us": render_us, "eu": render_eu, "br": render_br}[style]
    return add_frame_and_bolts(render(assets, drawn, rng), rng), label, style


# --------------------------------------------------------------------------- #
# Scene placement and degradations
# --------------------------------------------------------------------------- #


class CropMargins(NamedTuple):
    """Range of the margin on each side of a training crop, as a fraction of
    the plate's width (``x``) and height (``y``); negative cuts into the plate."""

    x: tuple[float, float] = (-0.03, 0.14)
    y: tuple[float, float] = (-0.05, 0.25)


# The pipeline's crops (detector box plus expand_box) of the benchmark's
# development split are, at the median, 1.27 (US) / 1.20 (EU) / 1.26 (BR) times
# the labelled plate's width and 1.58 / 2.03 / 1.69 times its height (90th
# percentile: 1.45 / 1.28 / 1.36 and 1.92 / 2.41 / 1.97); see
# docs/research-log.md. DETECTOR_MARGINS covers that range
# on each side, from a tight crop to a loose one.
DETECTOR_MARGINS = CropMargins(x=(-0.03, 0.25), y=(-0.05, 0.70))


def place_and_crop(
    plate: np.ndarray, background: np.ndarray, rng: random.Random, margins: CropMargins = CropMargins()
) -> np.ndarray:
    """Warp the plate into a background patch and crop around it like the detector does."""
    ph, pw = plate.shape[:2]
    margin_x, margin_y = rng.uniform(*margins.x), rng.uniform(*margins.y)
    out_w = int(pw * (1 + 2 * max(margin_x, 0.0)))
    out_h = int(ph * (1 + 2 * max(margin_y, 0.0)))
    src = np.float32([[0, 0], [pw, 0], [pw, ph], [0, ph]])
    j = 0.06 * rng.random()
    dx0, dy0 = (
        out_w * max(margin_x, 0) / (1 + 2 * max(margin_x, 0)),
        out_h * max(margin_y, 0) / (1 + 2 * max(margin_y, 0)),
    )
    dst = np.float32(
        [
            [dx0 + rng.uniform(-j, j) * pw, dy0 + rng.uniform(-j, j) * ph],
            [dx0 + pw + rng.uniform(-j, j) * pw, dy0 + rng.uniform(-j, j) * ph],
            [dx0 + pw + rng.uniform(-j, j) * pw, dy0 + ph + rng.uniform(-j, j) * ph],
            [dx0 + rng.uniform(-j, j) * pw, dy0 + ph + rng.uniform(-j, j) * ph],
        ]
    )
    # small rotation about the centre
    ang = np.deg2rad(rng.uniform(-6, 6))
    c = dst.mean(axis=0)
    rot = np.array([[np.cos(ang), -np.sin(ang)], [np.sin(ang), np.cos(ang)]], np.float32)
    dst = (dst - c) @ rot.T + c
    m = cv2.getPerspectiveTransform(src, dst.astype(np.float32))
    bh, bw = background.shape[:2]
    bx, by = rng.randint(0, max(0, bw - 40)), rng.randint(0, max(0, bh - 20))
    bg = background[by : by + max(20, bh // 3), bx : bx + max(40, bw // 3)]
    bg = cv2.resize(bg, (out_w, out_h), interpolation=cv2.INTER_LINEAR)
    warped = cv2.warpPerspective(plate, m, (out_w, out_h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
    mask = cv2.warpPerspective(np.full((ph, pw), 255, np.uint8), m, (out_w, out_h))
    out = np.where(mask[..., None] > 127, warped, bg)
    # negative margin: crop into the plate a little
    cut_x, cut_y = int(max(-margin_x, 0) * pw), int(max(-margin_y, 0) * ph)
    return out[cut_y : out_h - cut_y or None, cut_x : out_w - cut_x or None]


def degrade(img: np.ndarray, rng: random.Random, strength: float = 1.0, info: dict | None = None) -> np.ndarray:
    """Camera-like degradations on a BGR crop; ``strength`` scales their probability. ``info``,
    when given, gets ``downscale``: the smallest scale the crop passed through (1.0 if none)."""
    nrng = np.random.default_rng(rng.randrange(1 << 30))
    out = img.astype(np.float32)

    def p(q):
        return rng.random() < q * strength

    if p(0.25):  # glare: a bright blob
        h, w = out.shape[:2]
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        cx, cy, r = rng.uniform(0, w), rng.uniform(0, h), rng.uniform(0.15, 0.6) * w
        out += rng.uniform(60, 200) * np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * r * r))[..., None]
    if p(0.2):  # shadow band
        h, w = out.shape[:2]
        x0 = rng.randint(0, w)
        out[:, x0:] *= rng.uniform(0.4, 0.8)
    look = rng.random()
    if look < 0.15 * strength:  # night: dark, noisy
        out = out * rng.uniform(0.15, 0.45)
    elif look < 0.27 * strength:  # IR: grey, bright plate, dark characters, high gamma
        g = cv2.cvtColor(np.clip(out, 0, 255).astype(np.uint8), cv2.COLOR_BGR2GRAY).astype(np.float32)
        g = 255 * (g / 255) ** rng.uniform(0.4, 0.8)
        out = np.repeat(g[..., None], 3, axis=2)
    elif look < 0.37 * strength:  # inverted-ish IR look (bright characters on a dark plate)
        g = 255 - cv2.cvtColor(np.clip(out, 0, 255).astype(np.uint8), cv2.COLOR_BGR2GRAY).astype(np.float32)
        out = np.repeat(g[..., None], 3, axis=2)
    if p(0.35):  # low contrast
        a = rng.uniform(0.25, 0.6)
        out = out.mean() + (out - out.mean()) * a
    if p(0.5):  # brightness / colour cast
        out = out * np.array([rng.uniform(0.7, 1.3) for _ in range(3)], np.float32) + rng.uniform(-40, 40)
    out = np.clip(out, 0, 255).astype(np.uint8)
    if p(0.5):  # distant plate: down- and up-scale
        h, w = out.shape[:2]
        tw = rng.randint(40, 120)
        if info is not None:
            info["downscale"] = min(1.0, tw / w)
        small = cv2.resize(out, (tw, max(8, int(h * tw / w))), interpolation=cv2.INTER_AREA)
        out = cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)
    if p(0.4):
        k = rng.choice([3, 5])
        out = cv2.GaussianBlur(out, (k, k), 0)
    elif p(0.2):  # horizontal motion blur
        k = rng.randint(3, 9)
        kernel = np.zeros((k, k), np.float32)
        kernel[k // 2] = 1.0 / k
        out = cv2.filter2D(out, -1, kernel)
    if p(0.5):
        out = np.clip(out.astype(np.float32) + nrng.normal(0, rng.uniform(3, 18), out.shape), 0, 255).astype(np.uint8)
    if p(0.5):
        ok, enc = cv2.imencode(".jpg", out, [cv2.IMWRITE_JPEG_QUALITY, rng.randint(15, 80)])
        if ok:
            out = cv2.imdecode(enc, cv2.IMREAD_COLOR)
    return out


def synth_sample(
    assets: SynthAssets, rng: random.Random, margins: CropMargins = CropMargins()
) -> tuple[np.ndarray, str]:
    """One training crop (BGR) and its label."""
    plate, label, _ = render_random_plate(assets, rng)
    scale = rng.uniform(0.35, 0.7)
    plate = cv2.resize(plate, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    crop = place_and_crop(plate, rng.choice(assets.backgrounds), rng, margins)
    return degrade(crop, rng), label

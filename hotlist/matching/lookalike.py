"""Plate normalisation and look-alike character sets. Plain Python."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from hotlist.importing import normalize_plate

__all__ = ["ALPHABET", "DEFAULT_LOOKALIKES", "LookalikeSets", "normalize_pattern", "normalize_plate"]

#: The characters a normalised plate is made of.
ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
_PATTERN_JUNK = re.compile(r"[^A-Z0-9*?]")
_STARS = re.compile(r"\*+")


def normalize_pattern(raw: str) -> str:
    """Like :func:`normalize_plate` but keeps the wildcards ``*`` and ``?`` (runs of ``*`` collapse)."""
    return _STARS.sub("*", _PATTERN_JUNK.sub("", raw.upper()))


@dataclass(frozen=True)
class LookalikeSets:
    """Groups of characters that OCR confuses with one another.

    Two different characters are *look-alikes* when some group contains both.
    Build one with ``LookalikeSets.from_strings(["0ODQ", "1I", ...])``.
    Groups may overlap ("8B" and "3B8"); look-alike-ness is still decided per
    group (3 and B above are look-alikes, but with groups "8B" and "3B", 3 and 8
    are not).
    """

    groups: tuple[str, ...]
    _pairs: frozenset = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        groups = tuple(self.groups)
        if isinstance(self.groups, str):
            raise TypeError("groups must be a list of strings, not one string")
        cleaned = []
        for g in groups:
            if not isinstance(g, str):
                raise TypeError(f"look-alike group {g!r} is not a string")
            chars = "".join(dict.fromkeys(g.upper()))
            bad = [c for c in chars if c not in ALPHABET]
            if bad:
                raise ValueError(f"look-alike group {g!r} has characters other than A-Z and 0-9: {bad}")
            if len(chars) < 2:
                raise ValueError(f"look-alike group {g!r} needs at least two different characters")
            cleaned.append(chars)
        object.__setattr__(self, "groups", tuple(cleaned))
        pairs = {(a, b) for g in cleaned for a in g for b in g if a != b}
        object.__setattr__(self, "_pairs", frozenset(pairs))

    @classmethod
    def from_strings(cls, groups: Iterable[str]) -> LookalikeSets:
        return cls(tuple(groups))

    def is_lookalike(self, a: str, b: str) -> bool:
        """True when ``a != b`` and some group holds both."""
        return (a, b) in self._pairs

    @property
    def pairs(self) -> frozenset:
        """All ordered pairs ``(a, b)`` of different look-alike characters."""
        return self._pairs

    def components(self) -> dict[str, str]:
        """Character -> representative of its connected component (union of overlapping groups)."""
        return components_of([self])


def components_of(sets: Iterable[LookalikeSets]) -> dict[str, str]:
    """Union-find over every group of every set: char -> smallest char of its component.

    Look-alike characters (under any of ``sets``) always share a representative,
    which is what makes canonical keys a safe (never missing) filter.
    """
    parent = {c: c for c in ALPHABET}

    def find(c: str) -> str:
        while parent[c] != c:
            parent[c] = parent[parent[c]]
            c = parent[c]
        return c

    for s in sets:
        for g in s.groups:
            root = find(g[0])
            for c in g[1:]:
                other = find(c)
                if other != root:
                    lo, hi = sorted((root, other), key=ALPHABET.index)
                    parent[hi] = lo
                    root = lo
    return {c: find(c) for c in ALPHABET}


#: Look-alike sets used by default: 0/O/D/Q, 1/I, 2/Z, 5/S, 8/B, 6/G.
DEFAULT_LOOKALIKES = LookalikeSets(("0ODQ", "1I", "2Z", "5S", "8B", "6G"))

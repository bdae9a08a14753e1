"""Hotlist index (deletion neighbourhoods over canonical keys), brute-force scan, atomic swap.

See the package docstring (``hotlist.matching``) for the matching semantics.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import lru_cache
from itertools import combinations
from math import comb
from typing import Any

import numpy as np
from rapidfuzz.distance import Levenshtein

from .explain import Difference, Match, align, align_wildcard, wildcard_regex
from .lookalike import ALPHABET, LookalikeSets, components_of, normalize_pattern, normalize_plate
from .policy import MatchPolicy

__all__ = ["MAX_KEY_LEN", "BruteForceScanner", "Candidates", "HotlistIndex", "IndexHolder", "scan_match"]

#: Plates up to this many characters go into the index (6 bits a character in
#: a 64-bit key); longer entries are checked one by one on every read.
MAX_KEY_LEN = 10
_MULT = np.uint64(0x9E3779B97F4A7C15)
_SHIFTS = np.arange(MAX_KEY_LEN, dtype=np.uint64) * np.uint64(6)
_CLEAN = re.compile(r"[A-Z0-9]+")

Candidates = str | Iterable[str | tuple]
Row = tuple  # (entry_id, plate, policy or list id)
#: A wildcard entry: (row, pattern, exact regex, canonical regex or None, look-alike budget, look-alikes or None)
_Wild = tuple[int, str, re.Pattern[str], re.Pattern[str] | None, int, LookalikeSets | None]


def _norm_plate(raw: str) -> str:
    return raw if _CLEAN.fullmatch(raw) else normalize_plate(raw)


def _candidates(candidates: Candidates) -> list[tuple[str, float, int]]:
    """Normalised (text, confidence, index); repeated texts keep their best confidence."""
    if isinstance(candidates, str):
        candidates = [candidates]
    best: dict[str, tuple[str, float, int]] = {}
    for idx, c in enumerate(candidates):
        if isinstance(c, str):
            text, conf = c, 1.0
        else:
            text, conf = c[0], (1.0 if len(c) < 2 or c[1] is None else float(c[1]))
        text = _norm_plate(text)
        if not text:
            continue
        old = best.get(text)
        if old is None or conf > old[1]:
            best[text] = (text, conf, idx)
    return list(best.values())


@lru_cache(maxsize=256)
def _policy_tables(
    policies: tuple[MatchPolicy, ...],
) -> tuple[dict[str, str], dict[int, str], list[list[int]], list[list[int]]]:
    """The look-alike canonical map and table, and per-policy budget tables by entry length (index:
    min(length, 63)), computed once per set of policies: small scans (a camera's open plate events,
    a BOLO list) otherwise spent most of their time here. Shared: never modified."""
    canon = components_of(p.lookalikes for p in policies)
    la_table = [[p.lookalikes_for(n) for n in range(64)] for p in policies]
    ed_table = [[p.edits_for(n) for n in range(64)] for p in policies]
    return canon, str.maketrans(canon), la_table, ed_table


class _Entries:
    """Rows parsed once: normalised plates, policies and per-entry budgets."""

    def __init__(self, rows: Iterable[Row], policies: Mapping[Any, MatchPolicy] | None = None):
        ids: list = []
        plates: list[str] = []
        list_ids: list = []
        pol_index: dict[MatchPolicy, int] = {}
        pol_of: list[int] = []
        wild: list[int] = []
        any_list_id = False
        for row in rows:
            entry_id, raw, how = row[0], row[1], row[2]
            if isinstance(how, MatchPolicy):
                policy, list_id = how, None
            else:
                if policies is None or how not in policies:
                    raise KeyError(f"no policy for list {how!r} (entry {entry_id!r})")
                policy, list_id = policies[how], how
                any_list_id = True
            if "*" in raw or "?" in raw:
                plate = normalize_pattern(raw)
                literals = sum(1 for c in plate if c not in "*?")
                if literals < 2:
                    raise ValueError(f"wildcard entry {raw!r} (entry {entry_id!r}) needs at least 2 literal characters")
                wild.append(len(plates))
            else:
                plate = _norm_plate(raw)
                if not plate:
                    raise ValueError(f"entry {entry_id!r} has an empty plate")
            pi = pol_index.setdefault(policy, len(pol_index))
            ids.append(entry_id)
            plates.append(plate)
            list_ids.append(list_id)
            pol_of.append(pi)
        self.ids = ids
        self.plates = plates
        self.list_ids = list_ids if any_list_id else None
        self.policies = list(pol_index)
        self.pol_of = np.asarray(pol_of, dtype=np.uint16)
        self.wild_rows = wild
        canon, self.canon_table, self.la_table, self.ed_table = _policy_tables(tuple(self.policies))
        self.canon_map = canon
        self.wild: list[_Wild] = []
        for r in wild:
            pol = self.policies[pol_of[r]]
            pat = plates[r]
            literals = sum(1 for c in pat if c not in "*?")
            la_b = pol.lookalikes_for(literals) if pol.wildcard_lookalikes else 0
            exact_re = wildcard_regex(pat)
            canon_re = wildcard_regex(pat, canon) if la_b else None
            self.wild.append((r, pat, exact_re, canon_re, la_b, pol.lookalikes if la_b else None))

    def __len__(self) -> int:
        return len(self.ids)

    def budgets(self, row: int) -> tuple[int, int]:
        n = min(len(self.plates[row]), 63)
        pi = self.pol_of[row]
        return self.la_table[pi][n], self.ed_table[pi][n]

    def make_match(self, row: int, cand: tuple[str, float, int], kind: str, diffs: tuple[Difference, ...]) -> Match:
        return Match(
            self.ids[row],
            self.plates[row],
            cand[0],
            cand[1],
            cand[2],
            kind,
            diffs,
            self.list_ids[row] if self.list_ids is not None else None,
        )

    def verify(self, row: int, cand: tuple[str, float, int], canon_read: str) -> Match | None:
        """The definition of a match for one (non-wildcard) entry and one candidate."""
        plate = self.plates[row]
        read = cand[0]
        if plate == read:
            return self.make_match(row, cand, "exact", ())
        la_b, ed_b = self.budgets(row)
        if abs(len(plate) - len(read)) > ed_b:
            return None
        if ed_b == 0 and la_b == 0:
            return None
        # Necessary condition, cheap in C: look-alikes cost nothing on canonical texts.
        cp = plate.translate(self.canon_table)
        if Levenshtein.distance(cp, canon_read, score_cutoff=ed_b) > ed_b:
            return None
        # and every alignment has at least as many differences as the plain distance
        if Levenshtein.distance(plate, read, score_cutoff=la_b + ed_b) > la_b + ed_b:
            return None
        diffs = align(plate, read, la_b, ed_b, self.policies[self.pol_of[row]].lookalikes)
        if diffs is None:
            return None
        kind = "lookalike" if all(d.kind == "lookalike" for d in diffs) else "edit"
        return self.make_match(row, cand, kind if diffs else "exact", diffs)

    def verify_wild(self, w: _Wild, cand: tuple[str, float, int], canon_read: str) -> Match | None:
        r, pat, exact_re, canon_re, la_b, la = w
        read = cand[0]
        if exact_re.fullmatch(read):
            return self.make_match(r, cand, "wildcard", ())
        if canon_re is None or not canon_re.fullmatch(canon_read):
            return None
        diffs = align_wildcard(pat, read, la_b, la)
        if diffs is None:
            return None
        return self.make_match(r, cand, "wildcard", diffs)

    def collect(
        self, candidates: Candidates, rows_for: Callable[[str, str], Iterable[int]], extra_rows: Sequence[int] = ()
    ) -> list[Match]:
        """Match every candidate against the rows ``rows_for`` proposes; best match per entry."""
        best: dict[int, tuple] = {}
        for cand in _candidates(candidates):
            canon_read = cand[0].translate(self.canon_table)
            found = []
            for row in rows_for(cand[0], canon_read):
                m = self.verify(row, cand, canon_read)
                if m is not None:
                    found.append((row, m))
            for row in extra_rows:
                m = self.verify(row, cand, canon_read)
                if m is not None:
                    found.append((row, m))
            for w in self.wild:
                m = self.verify_wild(w, cand, canon_read)
                if m is not None:
                    found.append((w[0], m))
            for row, m in found:
                key = (len(m.differences), m.edits, -m.confidence, m.candidate_index)
                old = best.get(row)
                if old is None or key < old[0]:
                    best[row] = (key, m)
        ranked = sorted(((k[0], k[1], k[2], row), m) for row, (k, m) in best.items())
        return [m for _, m in ranked]


class HotlistIndex:
    """Immutable index over hotlist entries. Build with :meth:`build`, query with :meth:`match`.

    Safe to query from many threads at once (nothing is mutated after build).
    """

    def __init__(self, entries: _Entries, packed: np.ndarray, id_bits: int, read_edits: int, long_rows: list[int]):
        self._entries = entries
        self._packed = packed
        self._id_bits = id_bits
        self._id_mask = np.uint64((1 << id_bits) - 1)
        self._hi_mask = np.uint64(((1 << 64) - 1) ^ ((1 << id_bits) - 1))
        self._read_edits = read_edits
        self._long_rows = long_rows
        self._lut = _code_lut(entries.canon_map)
        self._keep_cache: dict[int, np.ndarray] = {}

    # -- building -------------------------------------------------------
    @classmethod
    def build(cls, rows: Iterable[Row], policies: Mapping[Any, MatchPolicy] | None = None) -> HotlistIndex:
        """Build from ``(entry_id, plate, policy)`` rows, where the third item is a
        :class:`MatchPolicy` or a list id looked up in ``policies``."""
        entries = rows if isinstance(rows, _Entries) else _Entries(rows, policies)
        n_rows = len(entries)
        id_bits = max(1, (max(n_rows, 2) - 1).bit_length())
        if id_bits > 40:
            raise ValueError("too many entries")
        wild = set(entries.wild_rows)
        plates = entries.plates
        lengths = np.fromiter((len(p) for p in plates), dtype=np.int32, count=n_rows)
        is_wild = np.zeros(n_rows, dtype=bool)
        if wild:
            is_wild[list(wild)] = True
        indexed = np.nonzero(~is_wild & (lengths <= MAX_KEY_LEN))[0]
        long_rows = np.nonzero(~is_wild & (lengths > MAX_KEY_LEN))[0].tolist()
        lut = _code_lut(entries.canon_map)
        if len(indexed):
            if len(indexed) == n_rows:
                sel = plates
            else:
                sel = [plates[i] for i in indexed.tolist()]
            mat = np.array(sel, dtype=f"S{MAX_KEY_LEN}").view(np.uint8).reshape(len(sel), MAX_KEY_LEN)
            codes = lut[mat]
            del mat, sel
            lens = lengths[indexed]
            ed_table = np.asarray(entries.ed_table, dtype=np.int8)  # policies x 64
            kk = ed_table[entries.pol_of[indexed].astype(np.int64), lens]
        else:
            codes = np.zeros((0, MAX_KEY_LEN), np.uint8)
            lens = kk = np.zeros(0, np.int32)
        groups = []
        total = 0
        read_edits = 0
        for ln in np.unique(lens).tolist():
            in_len = lens == ln
            for k in np.unique(kk[in_len]).tolist():
                members = np.nonzero(in_len & (kk == k))[0]
                n_var = sum(comb(ln, d) for d in range(min(k, ln) + 1))
                groups.append((ln, k, members))
                total += len(members) * n_var
                read_edits = max(read_edits, k)
        packed = np.empty(total, dtype=np.uint64)
        pos = 0
        hi_mask = np.uint64(((1 << 64) - 1) ^ ((1 << id_bits) - 1))
        for ln, k, members in groups:
            cm = codes[members, :ln].astype(np.uint64)
            row_ids = indexed[members].astype(np.uint64)
            cm <<= _SHIFTS[:ln]  # column c pre-shifted to its own slot
            for d in range(min(k, ln) + 1):
                for gone in combinations(range(ln), d):
                    key = np.zeros(len(members), dtype=np.uint64)
                    slot = 0
                    for c in range(ln):
                        if c in gone:
                            continue
                        col = cm[:, c]
                        shift = c - slot
                        key |= (col >> np.uint64(6 * shift)) if shift else col
                        slot += 1
                    key *= _MULT
                    key &= hi_mask
                    key |= row_ids
                    packed[pos : pos + len(members)] = key
                    pos += len(members)
            del cm
        del codes
        packed.sort()
        if len(packed) > 1:
            keep = np.empty(len(packed), dtype=bool)
            keep[0] = True
            np.not_equal(packed[1:], packed[:-1], out=keep[1:])
            if not keep.all():
                packed = packed[keep]
            del keep
        return cls(entries, packed, id_bits, read_edits, long_rows)

    # -- querying -------------------------------------------------------
    def __len__(self) -> int:
        return len(self._entries)

    @property
    def key_count(self) -> int:
        return len(self._packed)

    @property
    def nbytes(self) -> int:
        return self._packed.nbytes

    def _keep_for(self, m: int) -> np.ndarray:
        """Column picks (variants x MAX_KEY_LEN; index m = padding) for a read of length m."""
        keep = self._keep_cache.get(m)
        if keep is None:
            rows = []
            for d in range(min(self._read_edits, m) + 1):
                if m - d > MAX_KEY_LEN:
                    continue
                for gone in combinations(range(m), d):
                    kept = [c for c in range(m) if c not in gone]
                    rows.append(kept + [m] * (MAX_KEY_LEN - len(kept)))
            keep = np.asarray(rows, dtype=np.intp).reshape(-1, MAX_KEY_LEN)
            self._keep_cache[m] = keep
        return keep

    def candidate_rows(self, read: str) -> list[int]:
        """Rows whose deletion neighbourhood meets the read's (a superset of the matches)."""
        m = len(read)
        keep = self._keep_for(m)
        if not len(keep) or not len(self._packed):
            return []
        codes = np.zeros(m + 1, dtype=np.uint64)
        codes[:m] = self._lut[np.frombuffer(read.encode("ascii"), dtype=np.uint8)]
        keys = np.bitwise_or.reduce(codes[keep] << _SHIFTS, axis=1)
        keys = np.unique(keys)
        keys *= _MULT
        lo = keys & self._hi_mask
        a = np.searchsorted(self._packed, lo, "left")
        b = np.searchsorted(self._packed, lo | self._id_mask, "right")
        hit = np.nonzero(b > a)[0]
        if not len(hit):
            return []
        if len(hit) == 1:
            i = hit[0]
            found = self._packed[a[i] : b[i]] & self._id_mask
        else:
            found = np.concatenate([self._packed[a[i] : b[i]] for i in hit.tolist()]) & self._id_mask
        if len(found) > 1:
            found = np.unique(found)
        return found.tolist()

    def scanner(self, prefilter: bool = True) -> BruteForceScanner:
        """A brute-force scanner over the same (already parsed) entries."""
        return BruteForceScanner(self._entries, prefilter=prefilter)

    def match(self, candidates: Candidates) -> list[Match]:
        """Every entry hit by any candidate, best match per entry, best first.

        ``candidates``: a string, or a list of strings or ``(text, confidence)``.
        Order: fewest differences, fewest plain edits, highest confidence, entry order.
        """
        return self._entries.collect(candidates, lambda read, canon: self.candidate_rows(read), self._long_rows)


def _code_lut(canon: Mapping[str, str]) -> np.ndarray:
    """Byte -> 6-bit code of the character's canonical representative (0 for padding)."""
    lut = np.zeros(256, dtype=np.uint64)
    for c in ALPHABET:
        lut[ord(c)] = ALPHABET.index(canon[c]) + 1
    return lut


class BruteForceScanner:
    """Checks every entry for every candidate: the reference the index must agree with.

    With ``prefilter=True`` rapidfuzz first computes, in C, the Levenshtein
    distance of the canonical texts (look-alikes mapped to one character) and
    skips entries farther than their edit budget; that distance is a lower
    bound of the plain edits of any alignment, so nothing that matches is skipped.
    """

    def __init__(
        self,
        rows: Iterable[Row] | _Entries,
        policies: Mapping[Any, MatchPolicy] | None = None,
        prefilter: bool = True,
    ):
        self._entries = entries = rows if isinstance(rows, _Entries) else _Entries(rows, policies)
        wild = set(entries.wild_rows)
        self._rows = [r for r in range(len(entries)) if r not in wild]
        self._prefilter = prefilter
        if prefilter:
            self._canon = [entries.plates[r].translate(entries.canon_table) for r in self._rows]
            self._k = np.asarray([entries.budgets(r)[1] for r in self._rows], dtype=np.int32)
            self._kmax = int(self._k.max()) if len(self._k) else 0
            self._row_arr = np.asarray(self._rows, dtype=np.int64)

    def _rows_for(self, read: str, canon_read: str) -> Iterable[int]:
        if not self._prefilter:
            return self._rows
        from rapidfuzz import process

        dist = process.cdist(
            [canon_read], self._canon, scorer=Levenshtein.distance, score_cutoff=self._kmax, dtype=np.int32, workers=1
        )[0]
        return self._row_arr[dist <= self._k].tolist()

    def match(self, candidates: Candidates) -> list[Match]:
        return self._entries.collect(candidates, self._rows_for)


def scan_match(
    rows: Iterable[Row], candidates: Candidates, policies: Mapping[Any, MatchPolicy] | None = None
) -> list[Match]:
    """Brute force: check every entry (no prefilter). Same results as ``HotlistIndex.match``."""
    return BruteForceScanner(rows, policies, prefilter=False).match(candidates)


class IndexHolder:
    """Holds the live index; readers never wait for a rebuild.

    ``match`` reads the current index reference once (an atomic operation), so
    a concurrent :meth:`swap` never mixes two indexes in one answer. Rebuild
    with :meth:`rebuild_in_background`: the new index is built on a worker
    thread while matching continues on the old one, then swapped in. When
    several rebuilds overlap, only the most recently *requested* one is
    installed (an older build finishing late is discarded).
    """

    def __init__(self, index: HotlistIndex | None = None):
        self._index = index
        self._lock = threading.Lock()
        self._generation = 0

    @property
    def current(self) -> HotlistIndex | None:
        return self._index

    def swap(self, new_index: HotlistIndex) -> HotlistIndex | None:
        """Install ``new_index``; returns the previous one."""
        with self._lock:
            self._generation += 1
            old, self._index = self._index, new_index
        return old

    def match(self, candidates: Candidates) -> list[Match]:
        index = self._index
        return index.match(candidates) if index is not None else []

    def rebuild_in_background(
        self,
        rows: Iterable[Row],
        policies: Mapping[Any, MatchPolicy] | None = None,
        on_done: Callable[[BaseException | None], None] | None = None,
    ) -> threading.Thread:
        """Build a new index from ``rows`` on a daemon thread and swap it in when ready.

        ``on_done(error)`` is called afterwards (``error`` is None on success).
        The returned thread can be joined.
        """
        with self._lock:
            self._generation += 1
            generation = self._generation

        def work() -> None:
            error = None
            try:
                new = HotlistIndex.build(rows, policies)
                with self._lock:
                    if generation == self._generation:
                        self._index = new
            except BaseException as exc:  # reported to the caller, never raised in the thread
                error = exc
            if on_done is not None:
                on_done(error)

        thread = threading.Thread(target=work, name="hotlist-index-build", daemon=True)
        thread.start()
        return thread

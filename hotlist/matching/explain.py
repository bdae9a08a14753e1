"""The two-budget alignment (the definition of a match) and match explanations. Plain Python."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from .lookalike import LookalikeSets

__all__ = ["Difference", "Match", "align", "align_wildcard", "wildcard_regex"]

INF = 1 << 20

LOOKALIKE = "lookalike"
SUBSTITUTION = "substitution"
INSERTION = "insertion"
DELETION = "deletion"


@dataclass(frozen=True)
class Difference:
    """One difference between the hotlist entry and the read.

    ``position``: index in the read text (for a deletion, the index in the read
    where the missing character would be). ``entry_position``: index in the
    entry text (for an insertion, the index in the entry before which the extra
    character would go). ``entry_char`` is "" for an insertion, ``read_char`` is
    "" for a deletion.
    """

    kind: str  # lookalike | substitution | insertion | deletion
    position: int
    entry_position: int
    entry_char: str
    read_char: str

    @property
    def sentence(self) -> str:
        if self.kind == LOOKALIKE:
            return f"read {self.read_char} where the list has {self.entry_char} (look-alike)"
        if self.kind == SUBSTITUTION:
            return f"read {self.read_char} where the list has {self.entry_char}"
        if self.kind == INSERTION:
            return f"read an extra {self.read_char} (character {self.position + 1} of the read)"
        return f"missed the {self.entry_char} (character {self.entry_position + 1} of the list entry)"


@dataclass(frozen=True)
class Match:
    """One hotlist entry hit by one OCR candidate of a read, with its explanation."""

    entry_id: Any
    plate: str  # the entry as listed (normalised; may hold * and ?)
    read: str  # the candidate text (normalised) that matched
    confidence: float  # that candidate's confidence
    candidate_index: int  # its position in the candidate list given to match()
    kind: str  # exact | lookalike | edit | wildcard
    differences: tuple[Difference, ...]
    list_id: Any = None

    @property
    def lookalikes(self) -> int:
        return sum(1 for d in self.differences if d.kind == LOOKALIKE)

    @property
    def edits(self) -> int:
        return sum(1 for d in self.differences if d.kind != LOOKALIKE)

    @property
    def description(self) -> str:
        head = f"matches the pattern {self.plate}" if self.kind == "wildcard" else ""
        body = "; ".join(d.sentence for d in self.differences)
        if head and body:
            return f"{head}; {body}"
        return head or body or "exact match"


def _diag_fast(entry: str, read: str, la: LookalikeSets) -> tuple[int, int]:
    """Same-length diagonal alignment counts (lookalikes, plain substitutions)."""
    s = p = 0
    is_la = la.is_lookalike
    for e, r in zip(entry, read):
        if e != r:
            if is_la(e, r):
                s += 1
            else:
                p += 1
    return s, p


def align(entry: str, read: str, la_budget: int, edit_budget: int, la: LookalikeSets) -> tuple[Difference, ...] | None:
    """Best alignment turning ``entry`` into ``read`` within the budgets, or None.

    An alignment uses look-alike substitutions (s), and plain edits (p: other
    substitutions, insertions, deletions). It is within budget when
    ``p <= edit_budget`` and ``s + p <= la_budget + edit_budget`` (look-alike
    substitutions beyond the look-alike budget use up spare edit budget: a
    look-alike difference is never treated worse than a plain one). Among those
    the reported one minimises (s + p, p); remaining ties are broken by
    backtracking from the ends of both strings preferring, at each step, a
    diagonal step (match/substitution), then a deletion, then an insertion.
    """
    n, m = len(entry), len(read)
    K = edit_budget
    if abs(n - m) > K:
        return None
    cap = la_budget + K
    if entry == read:
        return ()
    if n == m:
        s, p = _diag_fast(entry, read, la)
        # Any other alignment of equal-length strings has >= 2 plain edits, so
        # with p <= 1 and s + p <= 2 the diagonal is the unique best one.
        if p <= 1 and s + p <= 2 and p <= K and s + p <= cap:
            is_la = la.is_lookalike
            return tuple(
                Difference(LOOKALIKE if is_la(e, r) else SUBSTITUTION, i, i, e, r)
                for i, (e, r) in enumerate(zip(entry, read))
                if e != r
            )
    is_la = la.is_lookalike
    P = K + 1
    # dp[i][j][p] = fewest look-alike substitutions of an alignment of
    # entry[:i] with read[:j] using exactly p plain edits (INF: none within cap);
    # cells outside the band |i - j| <= K are never read and stay empty.
    dp: list[list[list[int]]] = [[[]] * (m + 1) for _ in range(n + 1)]
    for i in range(n + 1):
        row = dp[i]
        for j in range(max(0, i - K), min(m, i + K) + 1):
            cell = [INF] * P
            if i == 0 and j == 0:
                cell[0] = 0
            if i and j:
                prev = dp[i - 1][j - 1]
                e, r = entry[i - 1], read[j - 1]
                if e == r:
                    for q in range(P):
                        if prev[q] < cell[q]:
                            cell[q] = prev[q]
                elif is_la(e, r):
                    for q in range(P):
                        v = prev[q] + 1
                        if v < cell[q]:
                            cell[q] = v
                else:
                    for q in range(1, P):
                        if prev[q - 1] < cell[q]:
                            cell[q] = prev[q - 1]
            if i and j <= i - 1 + K:  # deletion: from (i-1, j)
                up = dp[i - 1][j]
                for q in range(1, P):
                    if up[q - 1] < cell[q]:
                        cell[q] = up[q - 1]
            if j and j - 1 >= i - K:  # insertion: from (i, j-1)
                left = row[j - 1]
                for q in range(1, P):
                    if left[q - 1] < cell[q]:
                        cell[q] = left[q - 1]
            for q in range(P):
                if cell[q] + q > cap:
                    cell[q] = INF
            row[j] = cell
    end = dp[n][m]
    best = None
    for q in range(P):
        if end[q] < INF:
            key = (end[q] + q, q)
            if best is None or key < best:
                best = key
    if best is None:
        return None
    q = best[1]
    s = end[q]
    i, j = n, m
    diffs = []
    while i or j:
        if i and j:
            prev = dp[i - 1][j - 1]
            e, r = entry[i - 1], read[j - 1]
            if e == r:
                if prev[q] == s:
                    i -= 1
                    j -= 1
                    continue
            elif is_la(e, r):
                if s >= 1 and prev[q] == s - 1:
                    diffs.append(Difference(LOOKALIKE, j - 1, i - 1, e, r))
                    s -= 1
                    i -= 1
                    j -= 1
                    continue
            elif q >= 1 and prev[q - 1] == s:
                diffs.append(Difference(SUBSTITUTION, j - 1, i - 1, e, r))
                q -= 1
                i -= 1
                j -= 1
                continue
        if i and j <= i - 1 + K and q >= 1 and dp[i - 1][j][q - 1] == s:
            diffs.append(Difference(DELETION, j, i - 1, entry[i - 1], ""))
            q -= 1
            i -= 1
            continue
        if j and j - 1 >= i - K and q >= 1 and dp[i][j - 1][q - 1] == s:
            diffs.append(Difference(INSERTION, j - 1, i, "", read[j - 1]))
            q -= 1
            j -= 1
            continue
        raise AssertionError("alignment backtrack failed")  # pragma: no cover
    diffs.reverse()
    return tuple(diffs)


def wildcard_regex(pattern: str, canon: dict | None = None) -> re.Pattern:
    """Regex for a wildcard pattern; with ``canon`` (char -> representative), for canonical texts."""
    out = []
    for c in pattern:
        if c == "*":
            out.append(".*")
        elif c == "?":
            out.append(".")
        else:
            out.append(re.escape(canon[c] if canon else c))
    return re.compile("".join(out), re.DOTALL)


def align_wildcard(pattern: str, read: str, la_budget: int, la: LookalikeSets | None) -> tuple[Difference, ...] | None:
    """Match a wildcard pattern (``*`` any run, ``?`` one character) against a read.

    Literal characters must equal the read's, or (when ``la`` is given) be a
    look-alike of it, at most ``la_budget`` times. No plain edits. The reported
    alignment has the fewest look-alikes; ties are broken by backtracking from
    the end preferring: a ``*`` absorbing one more read character, then ending.
    """
    n, m = len(pattern), len(read)
    is_la = la.is_lookalike if la is not None else (lambda a, b: False)
    dp = [[INF] * (m + 1) for _ in range(n + 1)]
    dp[0][0] = 0
    for i in range(1, n + 1):
        t = pattern[i - 1]
        prow, row = dp[i - 1], dp[i]
        if t == "*":
            row[0] = prow[0]
            for j in range(1, m + 1):
                row[j] = min(prow[j], row[j - 1])
        else:
            for j in range(1, m + 1):
                v = prow[j - 1]
                if v >= INF:
                    continue
                r = read[j - 1]
                if t == "?" or t == r:
                    row[j] = v
                elif is_la(t, r) and v + 1 <= la_budget:
                    row[j] = v + 1
    if dp[n][m] > la_budget:
        return None
    i, j = n, m
    diffs = []
    while i:
        t = pattern[i - 1]
        if t == "*":
            if j and dp[i][j - 1] == dp[i][j]:
                j -= 1
            else:
                i -= 1
            continue
        r = read[j - 1]
        if t != "?" and t != r:
            diffs.append(Difference(LOOKALIKE, j - 1, i - 1, t, r))
        i -= 1
        j -= 1
    diffs.reverse()
    return tuple(diffs)

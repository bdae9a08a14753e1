"""Lenient hotlist matching: look-alike characters, edits, wildcards. Plain Python (no Django).

Semantics
=========

Texts. Plates and OCR candidates are normalised with ``normalize_plate``
(upper case, A-Z and 0-9 only). Wildcard entries (containing ``*`` or ``?``)
keep those two characters; runs of ``*`` collapse to one; a wildcard entry
needs at least two literal characters.

Look-alikes. A :class:`LookalikeSets` is a list of groups (default ``0ODQ``,
``1I``, ``2Z``, ``5S``, ``8B``, ``6G``). Two *different* characters are
look-alikes when one group holds both.

Policy. Each entry has a :class:`MatchPolicy` (given per entry, or per list id
through a ``policies`` mapping): a look-alike budget L and an edit budget K,
each 0..2, each possibly depending on the length of the *entry* (for a wildcard
entry: its number of literal characters). ``mode="exact"`` means L = K = 0.

Plain entries. Read R matches entry E when E can be turned into R by an
alignment made of

* matches (same character, free),
* look-alike substitutions (E's character replaced by a look-alike), s of them,
* plain edits, p of them: substitution by a character that is not a
  look-alike, insertion of a read character, deletion of an entry character,

with ``p <= K`` and ``s + p <= L + K``. That is: at most L look-alike
substitutions plus at most K plain edits, where look-alike substitutions beyond
L may use up unused edit budget (a look-alike difference is never treated
worse than an arbitrary one; with L = 0, K = 1 the read A8C123 matches ABC123).
Exact policy: only R == E.

Reported alignment. Among alignments within budget, the one with the fewest
differences (s + p) is reported, then the fewest plain edits p; remaining
ties are broken by backtracking from the ends of both strings preferring a
diagonal step (match or substitution), then a deletion, then an insertion.
Each difference is a :class:`Difference` (kind ``lookalike`` /
``substitution`` / ``insertion`` / ``deletion``, position in the read,
position in the entry, entry char, read char) with a sentence such as
"read 8 where the list has B (look-alike)".

Wildcard entries. ``*`` matches any run (also empty), ``?`` exactly one
character. Literal characters must equal the read's, or - when the policy's
``wildcard_lookalikes`` is on (default) - be a look-alike of it, at most L
times (L of the entry's literal count). No plain edits on wildcard entries.
The reported alignment has the fewest look-alikes (ties: from the end, a ``*``
absorbs as many characters as it can).

Kinds. ``exact`` (no difference), ``lookalike`` (look-alike substitutions
only), ``edit`` (at least one plain edit), ``wildcard`` (any wildcard entry).

Candidates. Every OCR candidate of a read is matched. Per entry the best
match is kept: fewest differences, then fewest plain edits, then highest
candidate confidence, then earliest candidate. Results are ordered by the
same key (differences, edits, -confidence) then entry order.

Index. :class:`HotlistIndex` returns exactly what :class:`BruteForceScanner`
/ :func:`scan_match` (check every entry) return. It maps each look-alike
component to one character (so look-alike substitutions cost nothing in the
key), stores the deletion neighbourhood (every string obtained by deleting up
to k characters, k = the entry's edit budget) of each canonical entry of up
to 10 characters as a 64-bit key (hash bits + row number) in one sorted numpy
array, and looks up the read's deletion neighbourhood (up to the largest k)
with ``np.searchsorted``. If two texts are within k plain edits they share a
key, so the index never misses; every candidate is then checked with the
exact definition above, which also gives the explanation. Wildcard entries
and entries over 10 characters are checked one by one on every read.

Updating. Indexes are immutable. :class:`IndexHolder` holds the live one;
``rebuild_in_background(rows)`` builds a new index on a thread while matching
continues on the old one, then swaps it in atomically (``swap`` does it by
hand).
"""

from .explain import Difference, Match, align, align_wildcard
from .index import MAX_KEY_LEN, BruteForceScanner, HotlistIndex, IndexHolder, scan_match
from .lookalike import DEFAULT_LOOKALIKES, LookalikeSets, normalize_pattern, normalize_plate
from .policy import MatchPolicy

__all__ = [
    "DEFAULT_LOOKALIKES",
    "MAX_KEY_LEN",
    "BruteForceScanner",
    "Difference",
    "HotlistIndex",
    "IndexHolder",
    "LookalikeSets",
    "Match",
    "MatchPolicy",
    "align",
    "align_wildcard",
    "normalize_pattern",
    "normalize_plate",
    "scan_match",
]

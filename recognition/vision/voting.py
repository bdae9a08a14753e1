"""Consensus of several reads of one plate (one vehicle passing one camera). Plain Python.

Each read contributes its OCR candidates, weighted by their confidences. The consensus is the
text with the highest total. Reads are also aligned position by position when they have the
same length as the leading text, so that a character that most frames got right wins even when
no single frame read the whole plate right.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Consensus:
    text: str
    confidence: float  # the winning text's share of all votes, in [0, 1]
    votes: dict[str, float]
    reads: int


def vote(reads: Iterable[Sequence[tuple[str, float]]]) -> Consensus:
    """``reads``: per frame, its candidates [(text, confidence), ...] best first."""
    votes: dict[str, float] = defaultdict(float)
    per_read: list[Sequence[tuple[str, float]]] = []
    for candidates in reads:
        candidates = [(t, float(c)) for t, c in candidates if t]
        if not candidates:
            continue
        per_read.append(candidates)
        for text, conf in candidates:
            votes[text] += conf
    if not votes:
        return Consensus("", 0.0, {}, 0)
    leader = max(votes.items(), key=lambda kv: (kv[1], kv[0]))[0]
    # Character voting over reads of the leader's length: each read's candidates of that length
    # vote for their characters at each position.
    columns: list[defaultdict[str, float]] = [defaultdict(float) for _ in leader]
    for candidates in per_read:
        for text, conf in candidates:
            if len(text) == len(leader):
                for i, ch in enumerate(text):
                    columns[i][ch] += conf
    composed = "".join(max(col.items(), key=lambda kv: (kv[1], kv[0]))[0] for col in columns)
    if composed != leader and composed in votes and votes[composed] >= votes[leader]:
        leader = composed
    elif composed != leader:
        # A text assembled from the frames' best characters; it gets the votes its characters won.
        score = sum(columns[i][ch] for i, ch in enumerate(composed)) / len(composed)
        if score > votes[leader]:
            votes[composed] = score
            leader = composed
    total = sum(votes.values())
    return Consensus(leader, votes[leader] / total if total else 0.0, dict(votes), len(per_read))

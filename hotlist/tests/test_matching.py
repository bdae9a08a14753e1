"""Lenient hotlist matching (hotlist.matching): plain Python, no database."""

from __future__ import annotations

import random
from functools import cache, lru_cache

import pytest

from hotlist.matching import (
    DEFAULT_LOOKALIKES,
    HotlistIndex,
    IndexHolder,
    LookalikeSets,
    MatchPolicy,
    align,
    scan_match,
)

L1 = MatchPolicy.lenient(lookalike=1, edits=0)
L2 = MatchPolicy.lenient(lookalike=2, edits=0)
E1 = MatchPolicy.lenient(lookalike=1, edits=1)
EXACT = MatchPolicy.exact()


def match(plate: str, read, policy: MatchPolicy):
    rows = [("e", plate, policy)]
    found = HotlistIndex.build(rows).match(read)
    assert found == scan_match(rows, read)
    return found[0] if found else None


def how(plate: str, read, policy: MatchPolicy) -> tuple[str, int, int] | None:
    """How ``read`` matches ``plate``: (kind, look-alikes, edits), or None when it does not."""
    m = match(plate, read, policy)
    return None if m is None else (m.kind, m.lookalikes, m.edits)


# -- look-alikes and budgets ------------------------------------------------


def test_default_lookalike_pair_hits_with_explanation():
    m = match("ABC123", "A8C123", L1)
    assert m is not None and m.kind == "lookalike" and m.read == "A8C123"
    (d,) = m.differences
    assert (d.kind, d.position, d.entry_position, d.entry_char, d.read_char) == ("lookalike", 1, 1, "B", "8")
    assert m.description == "read 8 where the list has B (look-alike)"


@pytest.mark.parametrize("entry,read", [("0ODQ15", "QDO0I5"), ("Z2S5B8", "2Z5S8B"), ("G6I1AA", "6G1IAA")])
def test_every_default_set_is_lookalike(entry, read):
    la = DEFAULT_LOOKALIKES
    assert all(e == r or la.is_lookalike(e, r) for e, r in zip(entry, read))
    assert not la.is_lookalike("A", "A") and not la.is_lookalike("A", "4")


def test_lookalike_budget_is_enforced():
    assert match("ABC123", "A8C1Z3", L1) is None  # two look-alikes, budget one
    m = match("ABC123", "A8C1Z3", L2)
    assert m is not None and m.lookalikes == 2 and m.edits == 0
    assert match("ABC123", "A8C1Z5", L2) is None  # three


def test_non_lookalike_substitution_needs_edit_budget():
    assert match("ABC123", "AXC123", L2) is None
    m = match("ABC123", "AXC123", E1)
    assert m.kind == "edit" and m.description == "read X where the list has B"


def test_exact_policy_matches_only_exact():
    assert match("ABC123", "ABC123", EXACT).kind == "exact"
    for read in ("A8C123", "ABC12", "ABC1234", "AXC123"):
        assert match("ABC123", read, EXACT) is None
    with pytest.raises(ValueError):
        MatchPolicy(mode="exact", lookalike_budget=1)


def test_edits_missing_extra_and_substituted_characters():
    m = match("ABC123", "ABC13", E1)
    (d,) = m.differences
    assert (d.kind, d.entry_char, d.read_char, d.entry_position, d.position) == ("deletion", "2", "", 4, 4)
    assert m.description == "missed the 2 (character 5 of the list entry)"
    m = match("ABC123", "ABC1293", E1)
    (d,) = m.differences
    assert (d.kind, d.read_char, d.position) == ("insertion", "9", 5)
    assert m.description == "read an extra 9 (character 6 of the read)"
    assert match("ABC123", "ABC12", L2) is None  # no edit budget
    assert match("ABC123", "ABC1", E1) is None  # two edits
    assert match("ABC123", "XBC12", E1) is None
    m = match("ABC123", "A8C12", E1)  # one look-alike plus one deletion
    assert [d.kind for d in m.differences] == ["lookalike", "deletion"] and m.kind == "edit"


def test_excess_lookalikes_use_spare_edit_budget():
    p = MatchPolicy.lenient(lookalike=0, edits=1)
    assert match("ABC123", "A8C123", p).kind == "lookalike"
    assert match("ABC123", "A8C1Z3", p) is None


def test_length_dependent_budgets():
    p = MatchPolicy.lenient(lookalike=((0, 0), (5, 1), (7, 2)), edits=((0, 0), (6, 1)))
    assert p.lookalikes_for(4) == 0 and p.lookalikes_for(6) == 1 and p.lookalikes_for(8) == 2
    assert match("AB12", "A812", p) is None
    assert how("ABC12", "A8C12", p) == ("lookalike", 1, 0)
    assert match("ABC12", "ABC1", p) is None  # 5 characters: no edits
    assert how("ABC123", "ABC12", p) == ("edit", 0, 1)  # 6 characters: one edit
    assert how("ABC1234", "A8C1Z34", p) == ("lookalike", 2, 0)
    for bad in (3, -1, ((5, 1), (5, 2)), ((0, 1), (3, 9)), "1", True):
        with pytest.raises((ValueError, TypeError)):
            MatchPolicy.lenient(lookalike=bad)


def test_configurable_lookalike_sets():
    sets = LookalikeSets.from_strings(["3B8", "EF"])
    p = MatchPolicy.lenient(1, 0, lookalikes=sets)
    assert how("ABE123", "A3E123", p) == ("lookalike", 1, 0)
    assert how("ABE123", "ABF123", p) == ("lookalike", 1, 0)
    assert match("AB0123", "ABO123", p) is None  # 0/O not in this configuration
    with pytest.raises(ValueError):
        LookalikeSets.from_strings(["A"])
    with pytest.raises(ValueError):
        LookalikeSets.from_strings(["A-"])


# -- wildcards ----------------------------------------------------------


def test_wildcard_entries():
    assert match("S*K3*7", "SK37", L1).kind == "wildcard"
    assert how("S*K3*7", "SXYK3ZZ7", L1) == ("wildcard", 0, 0)
    assert match("S*K3*7", "SK3", L1) is None
    assert how("AB?123", "ABX123", EXACT) == ("wildcard", 0, 0)
    assert match("AB?123", "AB123", EXACT) is None
    assert match("AB?123", "ABXY123", EXACT) is None
    m = match("S*K3*7", "5K3X7", L1)  # look-alike on a literal character
    assert m.description == "matches the pattern S*K3*7; read 5 where the list has S (look-alike)"
    assert m.differences[0].position == 0
    assert match("S*K3*7", "5K3X7", EXACT) is None
    assert match("S*K3*7", "5K3X7", MatchPolicy.lenient(1, 0, wildcard_lookalikes=False)) is None
    assert match("s-*k3**7", "SK37", EXACT).plate == "S*K3*7"
    with pytest.raises(ValueError):
        HotlistIndex.build([(1, "*A*", L1)])


# -- candidates, per-list policy, ordering --------------------------------


def test_every_candidate_is_matched_and_best_is_kept_per_entry():
    rows = [(1, "ABC123", E1), (2, "XYZ789", E1), (3, "QRS456", E1)]
    index = HotlistIndex.build(rows)
    cands = [("XYZ789", 0.9), ("A8C123", 0.6), ("ABC123", 0.4), ("QR5456", 0.3), ("QRS456", 0.2)]
    found = index.match(cands)
    assert found == scan_match(rows, cands)
    by_id = {m.entry_id: m for m in found}
    assert set(by_id) == {1, 2, 3}
    assert by_id[1].read == "ABC123" and by_id[1].kind == "exact" and by_id[1].confidence == 0.4
    assert by_id[1].candidate_index == 2
    assert by_id[3].read == "QRS456"
    assert [m.entry_id for m in found] == [2, 1, 3]  # exact first, then by confidence
    # equal differences: the higher confidence candidate wins
    found = index.match([("A8C123", 0.3), ("ABC1Z3", 0.7)])
    assert found[0].read == "ABC1Z3"
    assert index.match([]) == [] and index.match([("--", 1.0)]) == []


def test_policy_per_list():
    policies = {"stolen": EXACT, "amber": MatchPolicy.lenient(2, 1)}
    rows = [(1, "ABC123", "stolen"), (2, "ABC123", "amber")]
    found = HotlistIndex.build(rows, policies).match("A8C12")
    assert [(m.entry_id, m.list_id) for m in found] == [(2, "amber")]
    assert found == scan_match(rows, "A8C12", policies)
    with pytest.raises(KeyError):
        HotlistIndex.build([(1, "ABC123", "unknown")], policies)


def test_long_and_short_entries():
    rows = [(1, "ABCDEFGH1234", E1), (2, "AB", E1), (3, "A", MatchPolicy.lenient(2, 2))]
    index = HotlistIndex.build(rows)
    for read in ("ABCDEFGH1Z34", "A8CDEFGH124", "A8", "AB1", "B", "8", "X"):
        assert index.match(read) == scan_match(rows, read)
    assert [m.entry_id for m in index.match("A8CDEFGH124")] == [1]


def test_index_holder_swaps_atomically_and_rebuilds_in_background():
    holder = IndexHolder(HotlistIndex.build([(1, "ABC123", L1)]))
    assert [m.entry_id for m in holder.match("A8C123")] == [1]
    done = []
    thread = holder.rebuild_in_background([(2, "XYZ789", L1)], on_done=done.append)
    while thread.is_alive():  # matching keeps working during the build
        holder.match("A8C123")
        thread.join(0.001)
    assert done == [None]
    assert holder.match("A8C123") == [] and [m.entry_id for m in holder.match("XYZ789")] == [2]
    old = holder.swap(HotlistIndex.build([(3, "ABC123", L1)]))
    assert [m.entry_id for m in old.match("XYZ789")] == [2]
    assert [m.entry_id for m in holder.match("ABC123")] == [3]
    errors = []
    holder.rebuild_in_background([(4, "", L1)], on_done=errors.append).join()
    assert isinstance(errors[0], ValueError) and [m.entry_id for m in holder.match("ABC123")] == [3]


# -- the alignment against an independent reference ------------------------


def _reference(entry: str, read: str, la: LookalikeSets):
    """All (look-alikes, plain edits) counts of all alignments, by plain recursion."""

    @cache
    def go(i: int, j: int) -> frozenset:
        if i == len(entry) and j == len(read):
            return frozenset({(0, 0)})
        out = set()
        if i < len(entry):
            out |= {(s, p + 1) for s, p in go(i + 1, j)}
        if j < len(read):
            out |= {(s, p + 1) for s, p in go(i, j + 1)}
        if i < len(entry) and j < len(read):
            e, r = entry[i], read[j]
            ds, dp = (0, 0) if e == r else (1, 0) if la.is_lookalike(e, r) else (0, 1)
            out |= {(s + ds, p + dp) for s, p in go(i + 1, j + 1)}
        return frozenset(x for x in out if x[0] + x[1] <= 8)

    return go(0, 0)


def _apply(entry: str, diffs) -> str:
    out, i = [], 0
    for d in diffs:
        while i < d.entry_position:
            out.append(entry[i])
            i += 1
        assert len(out) == d.position
        if d.kind == "insertion":
            out.append(d.read_char)
        elif d.kind == "deletion":
            assert entry[i] == d.entry_char
            i += 1
        else:
            assert entry[i] == d.entry_char != d.read_char
            out.append(d.read_char)
            i += 1
    return "".join(out) + entry[i:]


def test_alignment_matches_independent_reference():
    rng = random.Random(7)
    alphabet = "0ODQ8B1IAX"
    la = DEFAULT_LOOKALIKES
    for _ in range(3000):
        entry = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 7)))
        read = list(entry)
        for _ in range(rng.randint(0, 4)):
            op, k = rng.randint(0, 2), rng.randint(0, len(read))
            if op == 0 and k < len(read):
                read[k] = rng.choice(alphabet)
            elif op == 1:
                read.insert(k, rng.choice(alphabet))
            elif read:
                read.pop(min(k, len(read) - 1))
        read = "".join(read)
        pairs = _reference(entry, read, la)
        for L in range(3):
            for K in range(3):
                ok = [(s + p, p) for s, p in pairs if p <= K and s + p <= L + K]
                got = align(entry, read, L, K, la)
                if not ok:
                    assert got is None, (entry, read, L, K)
                    continue
                assert got is not None, (entry, read, L, K)
                s = sum(d.kind == "lookalike" for d in got)
                p = len(got) - s
                assert (s + p, p) == min(ok), (entry, read, L, K, got)
                assert _apply(entry, got) == read
                for d in got:
                    assert (d.kind == "lookalike") == (
                        d.kind in ("lookalike", "substitution") and la.is_lookalike(d.entry_char, d.read_char)
                    )


# -- the index returns exactly what brute force returns ----------------------

POLICY_SETS = [
    [L1],
    [E1],
    [MatchPolicy.lenient(2, 2)],
    [EXACT, MatchPolicy.lenient(2, 1), MatchPolicy.lenient(((0, 0), (5, 1)), ((0, 0), (6, 2)))],
    [MatchPolicy.lenient(1, 1, lookalikes=LookalikeSets.from_strings(["3B8", "8B", "EF", "0O"])), L2],
]


@pytest.mark.parametrize("seed", range(len(POLICY_SETS)))
def test_index_equals_brute_force_on_random_lists(seed):
    policies = POLICY_SETS[seed]
    rng = random.Random(seed)
    alphabet = "ABE0ODQ8B1I2Z5S3F7"  # dense in look-alikes so that near misses abound

    def plate():
        return "".join(rng.choice(alphabet) for _ in range(rng.randint(2, 9)))

    rows = [(i, plate(), rng.choice(policies)) for i in range(2000)]
    rows += [(2000 + i, plate()[:3] + rng.choice("*?") + plate()[:2], rng.choice(policies)) for i in range(10)]
    rows += [(3000, "ABCDEFGH12345", policies[-1])]
    index = HotlistIndex.build(rows)
    scanner = index.scanner(prefilter=True)
    total = 0
    for r in range(300):
        cands = []
        for _c in range(rng.randint(1, 3)):
            base = list(rows[rng.randrange(len(rows) - 11)][1]) if rng.random() < 0.7 else list(plate())
            for _ in range(rng.randint(0, 3)):
                k = rng.randrange(len(base))
                if rng.random() < 0.6:
                    base[k] = rng.choice(alphabet)
                elif rng.random() < 0.5:
                    base.insert(k, rng.choice(alphabet))
                elif len(base) > 1:
                    base.pop(k)
            cands.append(("".join(base), rng.random()))
        got = index.match(cands)
        assert got == scanner.match(cands)
        if r < 60:
            assert got == scan_match(rows, cands)
        total += len(got)
    assert total > 100  # the test really exercises matches

"""Match policies: exact or lenient, with length-dependent budgets. Plain Python."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .lookalike import DEFAULT_LOOKALIKES, LookalikeSets

__all__ = ["MAX_BUDGET", "Budget", "MatchPolicy"]

MAX_BUDGET = 2

#: A budget: a plain int, or steps ``((min_len, budget), ...)`` with strictly
#: increasing ``min_len``; the budget for a plate of length n is that of the
#: last step with ``min_len <= n`` (0 when n is below the first step).
Budget = int | tuple


def _steps(value: Budget, name: str) -> tuple[tuple[int, int], ...]:
    if isinstance(value, bool):
        raise TypeError(f"{name} must be an int or a tuple of (min_len, budget) steps")
    if isinstance(value, int):
        value = ((0, value),)
    try:
        steps = tuple((int(a), int(b)) for a, b in value)
        for a, b in value:
            if isinstance(a, bool) or isinstance(b, bool) or int(a) != a or int(b) != b:
                raise TypeError
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be an int or a tuple of (min_len, budget) steps") from None
    if not steps:
        raise ValueError(f"{name} has no steps")
    last = -1
    for min_len, budget in steps:
        if min_len < 0 or min_len <= last:
            raise ValueError(f"{name}: min_len values must be >= 0 and strictly increasing")
        if not 0 <= budget <= MAX_BUDGET:
            raise ValueError(f"{name}: budget {budget} is outside 0..{MAX_BUDGET}")
        last = min_len
    return steps


def _lookup(steps: tuple[tuple[int, int], ...], length: int) -> int:
    budget = 0
    for min_len, b in steps:
        if length >= min_len:
            budget = b
        else:
            break
    return budget


@dataclass(frozen=True)
class MatchPolicy:
    """How leniently a hotlist (or one entry) is matched.

    ``mode`` is ``"exact"`` (both budgets must be 0) or ``"lenient"``.
    ``lookalike_budget`` / ``edit_budget``: an int 0..2, or length steps such as
    ``((0, 0), (6, 1))`` = "no edits for plates shorter than 6, one edit from 6
    characters on". The length is that of the hotlist entry (for a wildcard
    entry: its number of literal characters).
    ``wildcard_lookalikes``: literal characters of wildcard entries may be read
    as a look-alike (counted against the look-alike budget).
    """

    mode: str = "lenient"
    lookalike_budget: Budget = 1
    edit_budget: Budget = 0
    lookalikes: LookalikeSets = DEFAULT_LOOKALIKES
    wildcard_lookalikes: bool = True
    if TYPE_CHECKING:  # set by __post_init__, not dataclass fields at run time
        _la_steps: tuple[tuple[int, int], ...] = field(init=False, repr=False, compare=False)
        _ed_steps: tuple[tuple[int, int], ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.mode not in ("exact", "lenient"):
            raise ValueError(f"mode must be 'exact' or 'lenient', not {self.mode!r}")
        la = _steps(self.lookalike_budget, "lookalike_budget")
        ed = _steps(self.edit_budget, "edit_budget")
        if self.mode == "exact" and any(b for _, b in la + ed):
            raise ValueError("an exact policy has no look-alike or edit budget")
        if not isinstance(self.lookalikes, LookalikeSets):
            raise TypeError("lookalikes must be a LookalikeSets")
        object.__setattr__(self, "lookalike_budget", la[0][1] if la == ((0, la[0][1]),) else la)
        object.__setattr__(self, "edit_budget", ed[0][1] if ed == ((0, ed[0][1]),) else ed)
        object.__setattr__(self, "_la_steps", la)
        object.__setattr__(self, "_ed_steps", ed)

    @classmethod
    def exact(cls) -> MatchPolicy:
        return cls(mode="exact", lookalike_budget=0, edit_budget=0)

    @classmethod
    def lenient(
        cls,
        lookalike: Budget = 1,
        edits: Budget = 0,
        lookalikes: LookalikeSets = DEFAULT_LOOKALIKES,
        wildcard_lookalikes: bool = True,
    ) -> MatchPolicy:
        return cls("lenient", lookalike, edits, lookalikes, wildcard_lookalikes)

    def lookalikes_for(self, length: int) -> int:
        """Look-alike budget for an entry of ``length`` characters."""
        return _lookup(self._la_steps, length)

    def edits_for(self, length: int) -> int:
        """Edit budget for an entry of ``length`` characters."""
        return _lookup(self._ed_steps, length)

    @property
    def max_edits(self) -> int:
        return max(b for _, b in self._ed_steps)

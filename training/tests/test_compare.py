"""The release checks of a new CRNN (training/compare.py)."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from training.compare import main, verdict


def _result() -> dict:  # type: ignore[type-arg]
    region = {"exact": 94.6, "exact_o0": 97.3, "detected": 99.1, "ms_median": 30.0}
    side = {
        "bench": {"exact": 95.0, "exact_o0": 97.5, "detected": 99.6, "ms_median": 33.0, "regions": {"us": region}},
        "countries": {"exact_mean": 93.9, "exact_min": 84.0, "per_country": {"gb": 84.0}},
        "heldout": {"us": 135, "br": 200},
    }
    return {part: {"new": copy.deepcopy(side[part]), "old": copy.deepcopy(side[part])} for part in side}


def test_an_equal_model_passes():
    assert verdict(_result(), slack=0.05) == []


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (("bench", "new", "regions", "us", "exact"), 93.7, "bench us exact 93.7 < 94.6"),
        (("bench", "new", "regions", "us", "detected"), 98.0, "bench us detected 98.0 < 99.1"),
        (("bench", "new", "ms_median"), 35.0, "bench ms_median 35.0 > 33.0 (+5%)"),
        (("heldout", "new", "br"), 198, "held-out br crops read 198 < 200"),
        (("countries", "new", "exact_min"), 83.0, "countries exact_min 83.0 < 84.0"),
        (("countries", "new", "exact_mean"), 93.8, "countries exact_mean 93.8 < 93.9"),
    ],
)
def test_each_loss_is_named(path, value, message):
    result = _result()
    node = result
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    assert verdict(result, slack=0.05) == [message]


def test_better_and_slightly_slower_within_the_slack_passes():
    result = _result()
    result["bench"]["new"]["ms_median"] = 34.5  # within 5 % of 33.0
    result["countries"]["new"]["exact_mean"] = 95.0
    result["bench"]["new"]["regions"]["us"]["exact"] = 96.0
    assert verdict(result, slack=0.05) == []


def test_missing_models_are_refused(tmp_path: Path):
    with pytest.raises(SystemExit):
        main([str(tmp_path / "none.onnx")])

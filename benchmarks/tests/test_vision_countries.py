"""The vision benchmark's per-country counts (benchmarks/vision.py)."""

import numpy as np
import pytest

from recognition.vision.types import Candidate

pytestmark = pytest.mark.bench


def test_the_bench_counts_plates_by_the_country_their_read_fits():
    from benchmarks.vision import GroundTruth, format_table, score_image, summarize
    from recognition.vision.types import Box, PlateRead

    def read(text: str, box: Box, country: str) -> PlateRead:
        return PlateRead(box, 0.9, text, 0.9, (Candidate(text, 0.9),), np.zeros((2, 2, 3), np.uint8), country=country)

    truths = [GroundTruth("a.jpg", Box(0, 0, 50, 20), "AB123CD"), GroundTruth("a.jpg", Box(100, 0, 50, 20), "POLICE")]
    score = score_image(
        truths, [read("AB123CD", Box(0, 0, 50, 20), "it"), read("POLICE", Box(100, 0, 50, 20), "")], 5.0
    )
    assert score.countries == ("it", "")
    summary = summarize([score, score])
    assert summary["countries"] == {"it": 2, "none": 2}
    table = format_table({"detector": "d", "ocr": "o", "load_s": 0, "regions": {"it": summary}, **summary})
    assert "it: reads fit it 2, none 2" in table

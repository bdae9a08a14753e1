from recognition.vision.voting import vote


def test_majority_of_weighted_candidates_wins():
    result = vote([[("ABC123", 0.9)], [("A8C123", 0.6), ("ABC123", 0.3)], [("ABC123", 0.8)]])
    assert result.text == "ABC123" and result.reads == 3
    assert 0.7 < result.confidence <= 1


def test_characters_are_voted_when_no_frame_read_all_of_the_plate():
    # Each frame gets one different character wrong; position voting recovers the plate.
    frames = [[("XBC123", 0.7)], [("AXC123", 0.7)], [("ABX123", 0.7)], [("ABC1X3", 0.7)]]
    assert vote(frames).text == "ABC123"


def test_no_reads_no_consensus():
    assert vote([]).text == "" and vote([[]]).reads == 0

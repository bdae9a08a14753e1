"""Plate knowledge per country (recognition/vision/plates) and the decoder's use of it."""

from __future__ import annotations

import numpy as np
import pytest

from recognition.vision import plates
from recognition.vision.ocr import (
    PLATE_ALPHABET,
    country_rules,
    decode_plate,
    fits_region_format,
    rank_candidates,
)
from recognition.vision.pipeline import read_country
from recognition.vision.types import Candidate

ISSUE_COUNTRIES = [
    "us",
    "ca",
    "mx",
    "br",
    "fr",
    "de",
    "it",
    "es",
    "pt",
    "gb",
    "ie",
    "nl",
    "be",
    "lu",
    "at",
    "ch",
    "pl",
    "cz",
    "sk",
    "hu",
    "hr",
    "si",
    "ro",
    "dk",
    "se",
    "no",
    "fi",
]


def test_every_country_the_product_promises_has_layouts_and_a_source():
    known = plates.countries()
    for code in ISSUE_COUNTRIES:
        country = known[code]
        assert country.layouts and len(country.source) > 20, code
    assert any(code.startswith("us-") for code in known)  # US states
    # every state is a code; one without a table of its own reads with the US-wide layouts
    assert len([code for code in known if code.startswith("us-")]) == 51
    assert known["us-nv"].fits("123ABC") and known["us-nv"].layouts[0].country == "us-nv"


def test_countries_issue_only_their_own_letters():
    known = plates.countries()
    current_fr = known["fr"].layouts[0]
    assert current_fr.display == "LL-DDD-LL"
    assert current_fr.fits("AB123CD") and not current_fr.fits("AI123CD") and not current_fr.fits("AB123OU")
    assert known["it"].fits("AB123CD") and not known["it"].fits("AB123QD")
    assert known["es"].fits("1234BCD") and not known["es"].fits("1234ABC")  # consonants only
    assert known["nl"].fits("12BDF3") and not known["nl"].fits("12ABC3")  # no vowels
    assert known["pl"].fits("WA12345") and not known["pl"].fits("WA1234B")  # no B in a Polish serial
    assert known["se"].fits("ABC12D") and not known["se"].fits("ABC12I")
    # British numbers before 2001 run from 1: KBO 9 is a plate, KB 09 is not
    assert known["gb"].fits("KBO9") and not known["gb"].fits("KB09")
    assert known["gb"].fits("A815ACE") and not known["gb"].fits("A015ACE")
    assert known["gb"].fits("ABC105D") and not known["gb"].fits("ABC05D")
    # Slovenia issues no O after the region code (Postojna's PO keeps it); Austria's personalised
    # plates no Q and no 0 first in their digits
    assert known["si"].fits("PO12A0B") and not known["si"].fits("PO12AOB")
    assert known["at"].fits("WHANS1") and not known["at"].fits("WHANQ1") and not known["at"].fits("WHANS01")


def test_formats_expand_repeats_fixed_letters_and_two_line_plates():
    assert plates.expand_format("L{1,2} DD") == ["L DD", "LL DD"]
    assert plates.expand_format("DD{0,1}") == ["D", "DD"]
    de = plates.countries()["de"]
    assert de.fits("MAB123E") and de.fits("BAB1234") and not de.fits("BABCD1234")
    two_line = [layout for layout in plates.countries()["pl"].layouts if layout.lines == 2]
    assert two_line and two_line[0].display == "LL/DDDDD"
    with pytest.raises(ValueError, match="unexpected"):
        plates.expand_format("LL+DD")


def test_districts_and_cantons_are_required_where_the_country_has_them():
    assert plates.countries()["hr"].fits("ZG123AB") and not plates.countries()["hr"].fits("XX123AB")
    assert plates.countries()["ch"].fits("ZH123456") and not plates.countries()["ch"].fits("XY123456")


def test_a_bad_data_file_is_refused_with_the_country_named(tmp_path):
    bad = tmp_path / "c.toml"
    bad.write_text('[zz]\nname = "Z"\ngroup = "eu"\nsource = "s"\nlayouts = [{format = "LL?"}]\n')
    with pytest.raises(ValueError, match="unexpected"):
        plates.load(bad)
    bad.write_text('[zz]\nname = "Z"\ngroup = "mars"\nsource = "s"\nlayouts = [{format = "LL"}]\n')
    with pytest.raises(ValueError, match="zz is in unknown group"):
        plates.load(bad)
    bad.write_text('[ZZZ]\nname = "Z"\ngroup = "eu"\nsource = "s"\nlayouts = [{format = "LL"}]\n')
    with pytest.raises(ValueError, match="not a country code"):
        plates.load(bad)


def test_region_settings_parse_in_order_and_name_unknown_codes():
    assert plates.parse_regions(" FR, be ,de,fr") == ("fr", "be", "de")
    assert plates.parse_regions(["us-ca", "us"]) == ("us-ca", "us")
    assert plates.parse_regions("") == () and plates.parse_regions(None) == ()
    with pytest.raises(ValueError, match="'xx', 'uk'"):
        plates.parse_regions("fr,xx,uk")


def test_groups_stand_for_their_countries():
    assert plates.expand("br") == ("br",)
    assert set(plates.expand("na")) == {"ca", "mx"}
    eu = plates.expand("eu")
    assert "fr" in eu and "us" not in eu and "br" not in eu
    assert plates.expand("it,eu")[0] == "it"
    us = plates.expand("us")
    assert us[0] == "us" and "us-ca" in us


def test_reads_record_the_likeliest_country_they_fit():
    assert plates.fit_country("AB123CD", "it,fr") == "it"
    assert plates.fit_country("AB123CD", "fr,it") == "fr"
    assert plates.fit_country("1234BCD", "eu") == "es"  # only Spain has DDDDLLL
    assert plates.fit_country("AB123CD", "eu") == "eu"  # FR, IT, SK...: the group
    assert plates.fit_country("7ABC123", "us-ca,us") == "us-ca"
    assert plates.fit_country("HELLO", "fr") == ""  # a vanity or foreign plate
    assert read_country("AB123CD", "fr,zz") == ""  # a bad setting does not stop a read


# --------------------------------------------------------------------------- #
# Decoding with a camera's countries
# --------------------------------------------------------------------------- #


def _probs(text: str, runner_up: dict[int, tuple[str, float]] | None = None, p: float = 0.9) -> np.ndarray:
    """A (T, 37) matrix that reads ``text`` (blank between characters); ``runner_up``:
    position -> (character, probability) second choice there."""
    rows = []
    for i, ch in enumerate(text):
        blank = np.full(37, 0.0, np.float32)
        blank[0] = 1.0
        row = np.full(37, (1 - p) / 36, np.float32)
        row[PLATE_ALPHABET.index(ch) + 1] = p
        if runner_up and i in runner_up:
            alt, q = runner_up[i]
            row[:] = (1 - p - q) / 35
            row[PLATE_ALPHABET.index(ch) + 1] = p
            row[PLATE_ALPHABET.index(alt) + 1] = q
        rows += [blank, row]
    rows.append(rows[0])
    return np.array(rows)


def test_a_letter_a_country_never_issues_is_read_as_its_look_alike():
    # Italy issues no I: in a letter position the recogniser's next letter wins
    probs = _probs("AB123IL", {5: ("T", 0.05)}, p=0.6)
    assert decode_plate(probs, None)[0].text == "AB123IL"
    assert decode_plate(probs, "it")[0].text == "AB123TL"


def test_a_digit_in_a_letter_position_becomes_a_letter_by_position():
    # France: 0 in the fourth-to-last letter place reads as the likeliest issued letter
    probs = _probs("AB1230D", {5: ("Q", 0.2)}, p=0.7)
    assert decode_plate(probs, "fr")[0].text == "AB123QD"
    # a candidate with look-alikes where its layout has the other kind is settled: Z -> 2
    ranked = rank_candidates([Candidate("AB1Z3CD", 0.5), Candidate("XYZ", 0.1)], "fr", 3)
    assert ranked[0] == Candidate("AB123CD", 0.5)


def test_the_country_band_is_not_part_of_the_plate():
    assert decode_plate(_probs("FAB123CD"), "fr")[0].text == "AB123CD"
    assert decode_plate(_probs("DHHAB1234"), "de")[0].text == "HHAB1234"
    # French department in the right band (75)
    assert rank_candidates([Candidate("AB123CD75", 0.6)], "fr", 1)[0].text == "AB123CD"
    # on a two-line plate the band stands left of both lines and is read between them
    assert rank_candidates([Candidate("BASK123CD", 0.6)], "sk", 1)[0].text == "BA123CD"
    assert rank_candidates([Candidate("AB12GBCDE", 0.6)], "gb", 1)[0].text == "AB12CDE"
    # where the band code fits the country itself (D for Düsseldorf), it stays
    assert decode_plate(_probs("DAB1234"), "de")[0].text == "DAB1234"


def test_the_likeliest_country_wins_between_two_fitting_reads():
    # 12-AB-34 (Portugal 2005-2020) or 12-AB-3A? take the close pair G/6 at the end
    cands = [Candidate("AB12CDE", 0.3), Candidate("AB123CD", 0.25)]
    assert rank_candidates(cands, "gb,fr", 2)[0].text == "AB12CDE"
    assert rank_candidates(cands, "fr,gb", 2)[0].text == "AB123CD"


def test_a_read_that_fits_no_country_stays_possible_but_ranks_lower():
    cands = [Candidate("POLICE1", 0.5), Candidate("AB123CD", 0.05)]
    assert rank_candidates(cands, "fr", 2)[0].text == "AB123CD"
    only_custom = rank_candidates([Candidate("POLICE1", 0.9)], "fr", 2)
    assert only_custom == [Candidate("POLICE1", 0.9)]
    assert fits_region_format("POLICE1", "fr")


def test_us_states_read_o_as_zero_and_weigh_within_one_length():
    probs = _probs("7ABO123")
    assert decode_plate(probs, "us-ca")[0].text == "7AB0123"
    rules = country_rules("us-ca,us")
    assert rules is not None and rules.within_length and rules.zero_for_o
    # a 4-character read keeps its length against a likelier-fitting longer one
    ranked = rank_candidates([Candidate("2861", 0.6), Candidate("2861W", 0.1)], "us-ca,us", 2)
    assert ranked[0].text == "2861"


def test_groups_alone_keep_the_group_rules_and_bad_settings_read_without_rules():
    assert country_rules("eu") is None and country_rules("us") is None and country_rules("br") is None
    assert country_rules("") is None and country_rules("other") is None
    assert country_rules("fr,xx") is None
    assert decode_plate(_probs("AB123CD"), "fr,xx")[0].text == "AB123CD"
    rules = country_rules("fr,eu")
    assert rules is not None and rules.weights["fr"] > rules.weights["de"] > 1


def test_the_ensemble_stops_early_on_a_country_layout_but_asks_again_about_custom_reads():
    from recognition.vision.ocr import EnsemblePlateOCR
    from recognition.vision.types import OcrResult

    ensemble = EnsemblePlateOCR(engines=[], exit_confidence=0.85, custom_exit_confidence=0.98)
    fits = OcrResult((Candidate("AB123CD", 0.9),))
    custom = OcrResult((Candidate("POLICE1", 0.9),))
    assert ensemble.stops_early(fits, "fr")
    assert not ensemble.stops_early(custom, "fr")
    assert not ensemble.stops_early(fits, "es")  # no Spanish layout: a custom read there


def test_a_two_line_crop_is_unfolded_into_one_line():
    from recognition.vision.ocr import unfold_lines

    crop = np.full((60, 90, 3), 230, np.uint8)
    crop[8:26, 10:80] = 20  # the top line's "characters"
    crop[34:54, 10:80:6] = 20  # the bottom line: thin strokes
    out = unfold_lines(crop)
    assert out.shape[0] < crop.shape[0] and out.shape[1] > 1.5 * crop.shape[1]
    half = out.shape[1] // 2
    left, right = out[:, :half].mean(axis=2), out[:, half:].mean(axis=2)
    assert (left < 100).mean() > 0.3  # the solid top line on the left
    assert 0.05 < (right < 100).mean() < 0.3  # the strokes of the bottom line on the right
    assert unfold_lines(crop[:4]).shape[0] >= 1  # tiny crops do not fail


def test_only_two_line_texts_of_the_unfolded_view_count(monkeypatch):
    from recognition.vision import ocr

    layout = plates.countries()["sk"].two_line_layouts[0]
    two_line_text = "".join(sorted(a)[0] for a in layout.allowed)
    views = iter(
        [
            [Candidate("BA123CD", 0.5)],  # the crop
            [Candidate("BA123CD", 0.5)],  # the crop without the margin
            [Candidate("Z7", 0.9), Candidate(two_line_text, 0.6)],  # unfolded
        ]
    )
    monkeypatch.setattr(ocr, "decode_plate", lambda probs, region, top: next(views))
    texts = [c.text for c in ocr.PlateCrnnOCR().read(np.full((100, 150, 3), 200, np.uint8), region="sk").candidates]
    assert texts[0] == two_line_text and "BA123CD" in texts
    assert "Z7" not in texts  # a one-line plate unfolded reads as nonsense


def test_the_crnn_also_reads_narrow_crops_unfolded_where_countries_issue_two_line_plates(monkeypatch):
    from recognition.vision import ocr

    seen: list[int] = []
    real = ocr.unfold_lines

    def spy(crop):
        seen.append(crop.shape[1])
        return real(crop)

    monkeypatch.setattr(ocr, "unfold_lines", spy)
    engine = ocr.PlateCrnnOCR()
    square = np.full((100, 150, 3), 200, np.uint8)
    long = np.full((60, 300, 3), 200, np.uint8)
    engine.read(square, region="sk")
    assert seen == [150]
    engine.read(long, region="sk")  # one-line shape
    engine.read(square, region="es")  # Spain has no two-line layouts in the data file
    engine.read(square, region="us")
    assert seen == [150]
    engine.read(square, region="eu")  # the group: some of its countries issue them
    assert seen == [150, 150]

"""Rendered plates of every country (training/synth_countries.py)."""

from __future__ import annotations

import random

import numpy as np
import pytest

from recognition.vision import plates
from training.synth_plates import SynthAssets, default_data_dir

pytestmark = [
    pytest.mark.training,
    pytest.mark.skipif(not (default_data_dir() / "backgrounds").is_dir(), reason="needs ../shared/data"),
]


@pytest.fixture(scope="module")
def assets() -> SynthAssets:
    return SynthAssets.load(max_backgrounds=20)


def test_every_country_renders_plates_of_its_own_layouts(assets):
    from training.country_eval import DEFAULT_COUNTRIES
    from training.synth_countries import country_sample

    rng = random.Random(1)
    for code in DEFAULT_COUNTRIES:
        country = plates.countries()[code]
        for _ in range(3):
            crop, label = country_sample(assets, code, rng)
            assert crop.ndim == 3 and crop.shape[0] >= 8 and crop.shape[1] > crop.shape[0] * 0.4, code
            assert country.fits(label), (code, label)


def test_random_plates_use_the_letters_and_codes_a_country_issues():
    from training.synth_countries import random_plate

    rng = random.Random(2)
    fr = plates.countries()["fr"].layouts[0]
    for _ in range(200):
        drawn, label = random_plate(fr, rng)
        assert drawn[2] == "-" and not set(label) & set("IOU") and fr.fits(label)
    hr = plates.countries()["hr"].layouts[0]
    assert all(random_plate(hr, rng)[1][:2] in hr.prefixes for _ in range(50))
    two = next(layout for layout in plates.countries()["sk"].layouts if layout.lines == 2)
    assert random_plate(two, rng)[0][2] == "/"


def test_current_formats_are_drawn_more_often_than_old_ones():
    from training.synth_countries import pick_layout

    rng = random.Random(3)
    fr = plates.countries()["fr"]
    picks = [pick_layout(fr, rng) for _ in range(600)]
    current = sum(p.until is None for p in picks)
    assert current > 2 * (len(picks) - current)  # 3:1 by format, though the old one has 8 lengths


def test_two_line_plates_are_drawn_on_two_rows(assets):
    from training.synth_countries import render_country_plate

    sk = plates.countries()["sk"]
    two = next(layout for layout in sk.layouts if layout.lines == 2)
    plate = render_country_plate(sk, two, "BA/123CD", random.Random(4), assets)
    assert plate.shape[0] / plate.shape[1] > 0.5  # square-ish, not a long one-line plate
    ink = (plate.mean(axis=2) < 90)[:, int(plate.shape[1] * 0.2) :]
    rows = ink.mean(axis=1)
    middle = rows[int(len(rows) * 0.45) : int(len(rows) * 0.55)].mean()
    assert middle < rows[: len(rows) // 2].max() / 3 and middle < rows[len(rows) // 2 :].max() / 3


def test_the_test_set_is_the_same_on_every_run_and_not_a_training_stream(assets):
    from training.synth_countries import country_sample, country_test_set

    first = country_test_set("it", 3, assets)
    again = country_test_set("it", 3, assets)
    assert [label for _, label in first] == [label for _, label in again]
    assert all(np.array_equal(a, b) for (a, _), (b, _) in zip(first, again, strict=True))
    # integer seeds (training) draw other plates
    trained = [country_sample(assets, "it", random.Random(seed))[1] for seed in range(3)]
    assert not set(trained) & {label for _, label in first}


def test_country_eval_reports_every_country_asked(assets, capsys):
    from training.country_eval import main

    assert main(["--countries", "it,ca", "--per-country", "2", "--ocr", "crnn", "--json"]) == 0
    import json

    result = json.loads(capsys.readouterr().out)
    assert set(result["countries"]) == {"it", "ca"}
    assert result["countries"]["ca"]["exact_group"] is None and result["countries"]["it"]["plates"] == 2
    for r in result["countries"].values():  # the crops with camera-sized characters, of the same crops
        assert 0 <= r["plates_in_spec"] <= r["plates"]
        assert (r["in_spec"] is None) == (r["plates_in_spec"] == 0)
    with pytest.raises(SystemExit):
        main(["--countries", "xx"])


def test_training_samples_can_draw_country_plates(assets):
    from training.dataset import PlateSamples

    samples = PlateSamples([], assets, real_fraction=0.0, seed=5, country_fraction=1.0)
    texts = [samples.sample()[1] for _ in range(12)]
    assert all(any(plates.countries()[c].fits(t) for c in samples.countries) for t in texts)
    assert samples.countries[0] == "us" and "fi" in samples.countries
    assert PlateSamples([], assets, seed=5).countries == []  # off unless asked


def test_illegible_crops_are_drawn_again_for_the_test_sets(assets):
    from training.synth_countries import country_test_set, legible

    rng = np.random.default_rng(3)
    clean = rng.integers(0, 255, (40, 160, 3), dtype=np.uint8)
    assert legible(clean, clean)
    assert not legible(clean, (clean * 0.02).astype(np.uint8))  # a night look taken to black
    assert not legible(clean, np.full_like(clean, 250))  # washed out
    assert not legible(clean, rng.integers(0, 255, clean.shape, dtype=np.uint8))  # noise, nothing of the plate
    redrawn: list[int] = []
    items = country_test_set("de", 40, assets, redrawn)
    assert len(items) == 40 and redrawn[0] >= 0
    assert all(crop.std() >= 8.0 for crop, _ in items)


def test_training_unfolds_two_line_plates_as_the_crnn_reads_them(assets):
    from training.synth_countries import country_sample

    unfolded = 0
    for seed in range(30):
        crop, label = country_sample(assets, "sk", random.Random(seed))
        again, same = country_sample(assets, "sk", random.Random(seed), unfold=True)
        assert label == same
        if crop.shape != again.shape:  # a two-line plate: one long line now
            unfolded += 1
            assert again.shape[1] / again.shape[0] > 3 * crop.shape[1] / crop.shape[0]
    assert 0 < unfolded < 30


def test_the_crnn_reads_clean_two_line_plates_unfolded(assets, monkeypatch):
    import cv2

    from recognition.vision import ocr
    from training.synth_countries import random_plate, render_country_plate

    crops = []
    for code in ("cz", "sk", "de", "fr"):
        country = plates.countries()[code]
        two = [layout for layout in country.layouts if layout.lines == 2]
        rng = random.Random("two-line-check:" + code)
        for _ in range(5):
            layout = rng.choice(two)
            drawn, label = random_plate(layout, rng)
            plate = render_country_plate(country, layout, drawn, rng, assets)
            plate = cv2.resize(plate, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA)
            crops.append(
                (cv2.copyMakeBorder(plate, 12, 12, 8, 8, cv2.BORDER_CONSTANT, value=(90, 90, 90)), code, label)
            )
    engine = ocr.PlateCrnnOCR()
    unfolded = sum(engine.read(crop, region=code).text == label for crop, code, label in crops)
    monkeypatch.setattr(ocr, "TWO_LINE_MAX_ASPECT", 0.0)  # as one line only
    as_one_line = sum(engine.read(crop, region=code).text == label for crop, code, label in crops)
    assert unfolded >= 0.8 * len(crops) and as_one_line <= 0.2 * len(crops), (unfolded, as_one_line)


def test_us_numbers_stand_out_from_every_blank_plate(assets):
    """A dark blank (Vermont's green, Indiana's navy) gets light characters: no US number is
    drawn in an ink close to its plate's grey."""
    import cv2

    from training.synth_plates import US_DARK_INKS, US_LIGHT_INKS, render_us, us_inks

    def grey(rgb):
        r, g, b = rgb
        return 0.299 * r + 0.587 * g + 0.114 * b

    kinds = set()
    for blank in assets.blanks:
        bg = cv2.cvtColor(cv2.resize(blank, (400, 200), interpolation=cv2.INTER_CUBIC), cv2.COLOR_BGR2RGB)
        area = cv2.cvtColor(bg[60:150, 20:380], cv2.COLOR_RGB2GRAY).mean()
        inks = us_inks(bg)
        kinds.add(inks)
        assert min(abs(grey(ink) - area) for ink in inks) > 60
    assert kinds == {US_DARK_INKS, US_LIGHT_INKS}  # the shared blanks have both kinds

    # and the drawn number differs from the plate around it
    dark = min(assets.blanks, key=lambda b: float(b.mean()))
    one = type(assets)(assets.fonts, [dark], assets.backgrounds)
    plate = cv2.cvtColor(render_us(one, "ABC123", random.Random(3)), cv2.COLOR_BGR2GRAY)
    assert np.percentile(plate[60:150, 20:380], 99) > 180


def test_glyph_sheets_give_real_characters_of_each_country_named():
    from training.synth_countries import glyph_sheet

    named = {c.glyphs for c in plates.countries().values() if c.glyphs}
    assert {"leu.germany.exp0", "luk.uk.exp0"} <= named
    for name in named:
        sheet = glyph_sheet(name)
        assert set("0123456789BCDFGHJKLNPRSTVXZ") <= set(sheet), name
        glyphs = [g for gs in sheet.values() for g in gs]
        assert all(g.dtype == np.uint8 and g.shape[0] >= 8 and g.max() > 200 for g in glyphs), name
        assert 40 < np.mean([g.mean() for g in glyphs]) < 200, name  # ink on paper, not blank cuts
    assert glyph_sheet("no-such-sheet") == {}


def test_glyph_countries_set_some_plates_from_real_characters(assets, monkeypatch):
    """About GLYPH_SHARE of a glyph country's plates are set from its sheet; a plate with a
    character the sheet lacks is drawn in the font."""
    import training.synth_countries as sc
    import training.synth_plates as sp

    used: list[str] = []
    real_patch = sp.glyph_patch
    monkeypatch.setattr(sp, "glyph_patch", lambda text, *a: used.append(text) or real_patch(text, *a))
    gb = plates.countries()["gb"]
    rng = random.Random(4)
    set_from_glyphs = 0
    for _ in range(60):
        layout = sc.pick_layout(gb, rng)
        drawn, _label = sc.random_plate(layout, rng)
        before = len(used)
        plate = sc.render_country_plate(gb, layout, drawn, rng, assets)
        assert plate.ndim == 3
        set_from_glyphs += len(used) > before
    assert 0.25 < set_from_glyphs / 60 < 0.75

    used.clear()
    sheet = sc.glyph_sheet(gb.glyphs)
    missing = next(c for c in "IQ" if c not in sheet)
    layout = gb.layouts[0]
    for seed in range(20):
        sc.render_country_plate(gb, layout, f"AB12 C{missing}E", random.Random(seed), assets)
    assert used == []


def test_character_heights_follow_the_plate_through_the_distant_look(assets):
    from training.synth_countries import DETECTOR_MARGINS, _render_sample, country_test_set
    from training.synth_plates import degrade

    # degrade reports the smallest scale a crop passed through (a distant plate's down- and
    # up-scaling), and 1.0 is left out when there was none
    crop = np.full((60, 300, 3), 200, np.uint8)
    scales = []
    for seed in range(40):
        info: dict = {}
        out = degrade(crop, random.Random(seed), info=info)
        assert out.shape == crop.shape
        scales.append(info.get("downscale", 1.0))
    assert any(s == 1.0 for s in scales) and all(40 / 300 <= s <= 1.0 for s in scales)
    assert any(s < 0.5 for s in scales)
    # the same draw with and without the report: the report does not change the crop
    assert np.array_equal(degrade(crop, random.Random(7)), degrade(crop, random.Random(7), info={}))
    # a rendered crop's characters: the plate's, times the plate's scale and the downscale
    heights = [_render_sample(assets, "de", random.Random(s), DETECTOR_MARGINS)[4] for s in range(20)]
    assert all(1.0 < h < 0.8 * 110 * 0.7 + 1e-6 for h in heights)
    px: list[float] = []
    assert len(country_test_set("fr", 6, assets, char_px=px)) == 6 and len(px) == 6


def test_brazilian_plates_carry_the_number_of_their_generation(assets):
    from training.synth_plates import render_br

    def blue_band(plate):  # the Mercosur band: the top rows blue
        b, _, r = (float(v) for v in plate[5:20, 100:300].reshape(-1, 3).mean(axis=0))
        return b > 100 and b > r + 60

    for seed in range(12):
        assert blue_band(render_br(assets, "ABC1D23", random.Random(seed)))
        assert not blue_band(render_br(assets, "ABC-1234", random.Random(seed)))


def test_the_french_department_band_is_on_current_numbers_only(assets):
    from training.synth_countries import random_plate, render_country_plate

    france = plates.countries()["fr"]
    siv = next(layout for layout in france.layouts if layout.until is None and layout.lines == 1)
    fni = next(layout for layout in france.layouts if layout.until is not None)

    def right_band_blue(layout: plates.Layout, seed: int) -> bool:
        rng = random.Random(seed)
        drawn, _ = random_plate(layout, rng)
        plate = render_country_plate(france, layout, drawn, rng, assets)  # BGR
        strip = plate[10:-10, -int(plate.shape[1] * 0.07) : -4].reshape(-1, 3).mean(axis=0)
        return bool(strip[0] > strip[2] + 60)  # the EU blue, not the white plate

    assert sum(right_band_blue(siv, seed) for seed in range(20)) >= 10
    assert not any(right_band_blue(fni, seed) for seed in range(20))  # FNI numbers end in the department


def test_sans_plates_are_set_in_fonts_of_pinned_packages_not_the_systems():
    # fonts installed on the machine (fonts-liberation, by the browser tests' setup) once changed
    # which plates the GB, IE and North American test sets held
    from training.synth_countries import country_fonts
    from training.synth_plates import PILLOW_FONT

    fonts = country_fonts("sans")
    assert PILLOW_FONT in fonts and len(fonts) == 2
    assert all(f == PILLOW_FONT or "/matplotlib/" in f for f in fonts)

"""Hotlist file formats: parsing, detection and hostile input (plain Python, no database)."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

import hotlist.formats as formats
from hotlist.formats import CATEGORY_CODES, EXAMPLES
from hotlist.importing import FORMATS, ImportFailed, detect_format, parse_bytes, parse_csv_bytes

CHICAGO = ZoneInfo("America/Chicago")


def parse(text: str, **kwargs):
    return parse_bytes(text.encode(), **kwargs)


def messages(result) -> dict[int, str]:
    out: dict[int, str] = {}
    for error in result.errors:
        out[error.line] = (out.get(error.line, "") + " | " + error.message).strip(" |")
    return out


def ncic_line(
    code="V",
    nic="V123456789",
    ori="TX2270100",
    entered="240315",
    plate="ABC1234",
    state="TX",
    plate_year="2025",
    vehicle_year="2019",
    make="TOYT",
    model="CAM",
    colour="BLK",
    plate_type="PC",
    vin="4T1BF1FK5CU000001",
    oca="24-0001234",
    expires="251231",
    notes="",
) -> str:
    line = (
        f"{code:1}{nic:10}{ori:9}{entered:6} {plate:10}{state:2}{plate_year:4}{vehicle_year:4}{make:4}"
        f"{model:3}{colour:3}{plate_type:2}{vin:17}{oca:20}{expires:6}"
    )
    return (line + notes).rstrip() if notes else line


# --- each format, all fields -----------------------------------------------------------------


def test_formats_tuple_and_examples_are_documented():
    assert FORMATS == ("csv", "ncic", "tx_tcic", "fl", "plain")
    assert set(EXAMPLES) == set(FORMATS)
    for sample in EXAMPLES.values():
        for line in sample.strip().splitlines():
            assert line in formats.__doc__
    for code, word in CATEGORY_CODES.items():
        assert f"{code} {word}" in formats.__doc__


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_documented_example_parses_cleanly_and_is_detected(fmt):
    result = parse(EXAMPLES[fmt])
    assert result.errors == []
    assert result.format == fmt
    assert detect_format(EXAMPLES[fmt]) == fmt
    assert result.rows


def test_csv_with_all_fields_aliases_and_local_dates():
    text = (
        "LIC;LIS;Category;OCA;NIC;ORI;VIN;VMA;VMO;Color;VYR;LIY;LIT;Remarks;Entry Date;EXP;List Code\n"
        "abc-123;tx;Stolen vehicle;24-0001;V123456789;TX2270100;1hgcm82633a004352;HOND;ACC;BLU;2003;2025;pc;"
        "- red door;03/15/2024;20301231;V\n"
        "XYZ 999;ca;;;;;;;;;;NX;;;2024-03-15T08:30:00;2030-06-01T12:00:00+00:00;W\n"
    )
    result = parse(text, tz=CHICAGO)
    assert result.format == "csv" and result.errors == []
    first, second = result.rows
    assert (first.line, first.plate, first.plate_raw, first.state) == (2, "ABC123", "abc-123", "TX")
    assert (first.reason, first.category, first.case_number) == ("Stolen vehicle", "stolen vehicle", "24-0001")
    assert (first.nic, first.ori, first.vin) == ("V123456789", "TX2270100", "1HGCM82633A004352")
    assert (first.make, first.model, first.colour) == ("HOND", "ACC", "BLU")
    assert (first.vehicle_year, first.plate_year, first.plate_type, first.notes) == ("2003", "2025", "PC", "- red door")
    assert first.entered_at == datetime(2024, 3, 15, tzinfo=CHICAGO)
    assert first.expires_at == datetime(2031, 1, 1, tzinfo=CHICAGO)  # valid through 2030-12-31, local time
    assert (second.plate, second.state, second.reason, second.category) == (
        "XYZ999",
        "CA",
        "wanted person",
        "wanted person",
    )
    assert second.plate_year == "NX"
    assert second.entered_at == datetime(2024, 3, 15, 8, 30, tzinfo=CHICAGO)
    assert second.expires_at == datetime(2030, 6, 1, 12, 0, tzinfo=ZoneInfo("UTC"))


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_csv_delimiter_is_sniffed(delimiter):
    text = delimiter.join(["plate", "state", "notes"]) + "\n" + delimiter.join(["ABC123", "TX", '"a, b; c"']) + "\n"
    result = parse(text)
    assert result.errors == [] and result.format == "csv"
    assert (result.rows[0].plate, result.rows[0].state, result.rows[0].notes) == ("ABC123", "TX", "a, b; c")


def test_csv_explicit_mapping_overrides_aliases_and_ignores_columns():
    text = "Tag Number,Jurisdiction,State,Internal ID\nABC123,TX,ignored-here,77\n"
    mapping = {"tag number": "plate", "STATE": "notes", "Internal ID": "ignore"}
    result = parse(text, mapping=mapping)
    assert result.errors == []
    row = result.rows[0]
    assert (row.plate, row.state, row.notes) == ("ABC123", "TX", "ignored-here")
    # a mapping also makes an unfamiliar header detectable
    assert detect_format("Kennzeichen\nABC123\n", mapping={"Kennzeichen": "plate"}) == "csv"
    assert parse("Kennzeichen\nB-MW 123\n", mapping={"Kennzeichen": "plate"}).rows[0].plate == "BMW123"


def test_csv_header_problems_are_clear():
    unknown = parse("plate,flavour,shoe size\nABC123,x,9\n")
    assert unknown.errors[0].line == 1
    assert "unknown column(s) 'flavour', 'shoe size'" in unknown.errors[0].message
    assert "ignore" in unknown.errors[0].message
    bad_map = parse("plate,x\nABC123,1\n", mapping={"x": "flavour", "y": "notes"})
    text = " | ".join(e.message for e in bad_map.errors)
    assert "unknown field" in text and "'y', which is not in the header" in text
    twice = parse("plate,lic\nABC123,ABC123\n")
    assert "both give the plate field" in twice.errors[0].message
    no_plate = parse_csv_bytes(b"state,reason\nTX,x\n")
    assert "'plate' column" in no_plate.errors[0].message


def test_ncic_fixed_width_all_fields():
    text = (
        ncic_line(notes=" LAST SEEN I-35")
        + "\n"
        + ncic_line(code="p", plate="7XYZ12", state="CA", entered="991231", expires="", vin="", oca="", plate_year="NX")
        + "\n"
    )
    result = parse(text, tz=CHICAGO)
    assert result.format == "ncic" and result.errors == []
    first, second = result.rows
    assert (first.plate, first.state, first.category, first.reason) == (
        "ABC1234",
        "TX",
        "stolen vehicle",
        "stolen vehicle",
    )
    assert (first.nic, first.ori, first.plate_year, first.vehicle_year) == ("V123456789", "TX2270100", "2025", "2019")
    assert (first.make, first.model, first.colour, first.plate_type) == ("TOYT", "CAM", "BLK", "PC")
    assert (first.vin, first.case_number, first.notes) == ("4T1BF1FK5CU000001", "24-0001234", "LAST SEEN I-35")
    assert first.entered_at == datetime(2024, 3, 15, tzinfo=CHICAGO)
    assert first.expires_at == datetime(2026, 1, 1, tzinfo=CHICAGO)
    assert (second.plate, second.state, second.category, second.plate_year) == ("7XYZ12", "CA", "stolen plate", "NX")
    assert second.entered_at == datetime(1999, 12, 31, tzinfo=CHICAGO)
    assert second.expires_at is None and second.vin == ""


def test_ncic_minimal_39_character_record():
    line = ncic_line()[:39]
    assert len(line) == 39
    result = parse(line + "\n")
    assert result.format == "ncic" and result.errors == []
    assert (result.rows[0].plate, result.rows[0].state, result.rows[0].make) == ("ABC1234", "TX", "")


def test_ncic_row_errors():
    lines = [
        ncic_line(),
        ncic_line(plate="ZZZ111")[:30],  # short
        ncic_line(code="Q", plate="QQQ111"),  # unknown code
        ncic_line(plate="DDD444", entered="241399"),  # bad date
        " " + ncic_line(plate="EEE555"),  # shifted by one column
        ncic_line(plate="S*K3"),  # wildcard not allowed here
        ncic_line(plate="FFF666", vehicle_year="19X9"),
    ]
    result = parse("\n".join(lines) + "\n", fmt="ncic")
    errors = messages(result)
    assert set(errors) == {2, 3, 4, 5, 6, 7}
    assert "needs at least 39" in errors[2]
    assert "unknown list code 'Q'" in errors[3]
    assert "entered '241399' is not a date" in errors[4] and "YYMMDD" in errors[4]
    assert "layout shifted" in errors[5]
    assert "wildcards (* ?) are accepted in csv and plain files only" in errors[6]
    assert "vehicle year '19X9'" in errors[7]


def test_tx_tcic_layout():
    text = "ABC1234,TX,2025,PC,V,V123456789,TX2270100,03/15/2024\n\n7XY-Z12,tx,,TK,f,,TX0570000,20240101\n"
    result = parse(text)
    assert result.format == "tx_tcic" and result.errors == []
    first, second = result.rows
    assert (first.line, first.plate, first.state, first.plate_year, first.plate_type) == (
        1,
        "ABC1234",
        "TX",
        "2025",
        "PC",
    )
    assert (first.category, first.nic, first.ori) == ("stolen vehicle", "V123456789", "TX2270100")
    assert first.entered_at == datetime(2024, 3, 15, tzinfo=ZoneInfo("UTC"))
    assert (second.line, second.plate, second.state, second.category, second.plate_type) == (
        3,
        "7XYZ12",
        "TX",
        "felony vehicle",
        "TK",
    )


def test_tx_tcic_row_errors():
    text = (
        "ABC1234,TX,2025,PC,V,V123456789,TX2270100,03/15/2024\n"
        "BBB222,TX,2025,PC,V,V1,TX2270100\n"
        "CCC333,TX,2025,PC,Z,V1,TX2270100,03/15/2024\n"
        "DDD444,TX,2025,PC,V,V1,TX2270100,15/03/2024\n"
        "EEE555,TX,2025,PC,,V1,TX2270100,03/15/2024\n"
    )
    errors = messages(parse(text))
    assert set(errors) == {2, 3, 4, 5}
    assert "expected 8 ','-separated fields, found 7" in errors[2]
    assert "unknown list code 'Z'" in errors[3]
    assert "entered '15/03/2024' is not a date" in errors[4]
    assert "list code is missing" in errors[5]


def test_fl_layout_with_10_to_15_fields():
    text = (
        EXAMPLES["fl"]
        + "w;CDE345;fl;;;;;;;FL0130000\n"
        + "A;EFG456;FL;2024;2020;FORD;F15;WHI;A1;FL0130000;C-9;20240301\n"
    )
    result = parse(text)
    assert result.format == "fl" and result.errors == []
    first, second, third = result.rows
    assert (first.plate, first.state, first.plate_year, first.vehicle_year) == ("BCD234", "FL", "2025", "2019")
    assert (first.make, first.model, first.colour, first.nic, first.ori) == (
        "TOYT",
        "CAM",
        "BLK",
        "V987654321",
        "FL0130000",
    )
    assert (first.case_number, first.vin, first.notes) == ("24-001234", "4T1B11HK5KU000001", "seen near I-95")
    assert first.entered_at == datetime(2024, 3, 15, tzinfo=ZoneInfo("UTC"))
    assert first.expires_at == datetime(2025, 1, 1, tzinfo=ZoneInfo("UTC"))
    assert (second.plate, second.state, second.category, second.ori) == ("CDE345", "FL", "wanted person", "FL0130000")
    assert (third.category, third.case_number, third.expires_at) == ("Amber alert", "C-9", None)


def test_fl_wrong_field_count():
    text = "V;ABC123;FL;2025\n" + "V;" * 16 + "X\n"
    errors = messages(parse(text, fmt="fl"))
    assert "expected 10 to 15 ';'-separated fields, found 4" in errors[1]
    assert "found 17" in errors[2]


def test_plain_one_plate_per_line_with_comments_and_wildcards():
    text = "# morning briefing\n\nabc 123\n7-XYZ-123  # from the radio\nS*K3?7\n**AB**\n"
    result = parse(text)
    assert result.format == "plain" and result.errors == []
    assert [(r.line, r.plate) for r in result.rows] == [(3, "ABC123"), (4, "7XYZ123"), (5, "S*K3?7"), (6, "*AB*")]


# --- detection and override ------------------------------------------------------------------


def test_detection_needs_most_lines_to_agree_and_override_wins():
    # one malformed TX line among good ones is still TX (and gets a row error)
    text = "AAA111,TX,2025,PC,V,V1,TX1\n" + "BBB222,TX,2025,PC,V,V2,TX1,01/01/2024\n" * 3
    result = parse(text)
    assert result.format == "tx_tcic"
    assert [e.line for e in result.errors] == [1]
    # a csv header naming no plate column is still a csv (so its error is about the header)
    assert detect_format("state,reason\nTX,x\n") == "csv"
    # override: a one-column csv with a header read as plain refuses the header word
    overridden = parse("plate\nABC123\n", fmt="plain")
    assert overridden.format == "plain" and [r.plate for r in overridden.rows] == ["PLATE", "ABC123"]
    assert parse(EXAMPLES["tx_tcic"], fmt="csv").errors[0].line == 1


def test_unrecognisable_or_unknown_format_is_refused():
    for text, kwargs, message in [
        ("1,2,3,4\n5,6,7,8\n", {}, "could not recognise"),
        ("ABC123\n", {"fmt": "xlsx"}, "unknown format 'xlsx'"),
        (EXAMPLES["fl"], {"mapping": {"a": "plate"}}, "csv files only"),
    ]:
        with pytest.raises(ImportFailed) as info:
            parse(text, **kwargs)
        assert message in info.value.errors[0].message


# --- hostile and malformed input ---------------------------------------------------------------


@pytest.mark.parametrize(
    "data, message",
    [
        ("plate\nABC123\n".encode("utf-16"), "UTF-16"),
        ("plate\nABC123\n".encode("utf-16-le"), "UTF-16 without a byte order mark"),
        ("plate\nABC123\n".encode("utf-32"), "UTF-32"),
        ("plate,notes\nABC123,café\n".encode("latin-1"), "Latin-1/Windows-1252"),
        (b"PK\x03\x04" + bytes(range(256)), "xlsx"),
        (b"plate\nABC\x00123\n", "NUL bytes"),
        (b"\x01\x02\x03\x04" * 20, "control characters"),
    ],
    ids=["utf16", "utf16-no-bom", "utf32", "latin1", "xlsx", "nul", "binary"],
)
def test_whole_file_problems_raise_import_failed(data, message):
    with pytest.raises(ImportFailed) as info:
        parse_bytes(data)
    assert message in str(info.value.errors[0])
    assert "not UTF-8" in info.value.errors[0].message or "NUL" in message or "control" in message


def test_latin1_hint_names_the_line_and_character():
    with pytest.raises(ImportFailed) as info:
        parse_bytes("plate,notes\nABC123,caf\u00e9\n".encode("cp1252"))
    message = info.value.errors[0].message
    assert "line 2" in message and "'é'" in message and "save it as UTF-8" in message


def test_bom_crlf_and_cr_line_ends_are_fine():
    data = "\ufeffplate,state\r\nABC123,TX\r\nXYZ999,CA\r\n".encode()
    result = parse_bytes(data)
    assert result.errors == [] and [(r.line, r.plate) for r in result.rows] == [(2, "ABC123"), (3, "XYZ999")]
    old_mac = parse_bytes(b"ABC123\rXYZ999\r")
    assert [(r.line, r.plate) for r in old_mac.rows] == [(1, "ABC123"), (2, "XYZ999")]


@pytest.mark.parametrize("fmt", FORMATS)
def test_huge_line_is_a_row_error_in_every_format(fmt):
    sample = EXAMPLES[fmt].rstrip("\n").split("\n")
    text = "\n".join([*sample, "A" * 5000, *sample[-1:]]) + "\n"
    result = parse(text, fmt=fmt)
    errors = messages(result)
    huge = len(sample) + 1
    assert "longer than 4096" in errors[huge]
    assert result.duplicates == 1 or fmt == "plain"  # the last line repeats the sample; its errors aside


def test_control_character_in_one_line_is_a_row_error():
    result = parse("plate,notes\nABC123,ok\nXYZ999,bell\x07\n")
    assert messages(result) == {3: "line contains the control character U+0007"}
    assert [r.plate for r in result.rows] == ["ABC123"]


@pytest.mark.parametrize(
    "value, formula",
    [
        ('=HYPERLINK("http://x")', True),
        ("=1+1", True),
        ("\t=1+1", True),
        ("+SUM(A1:A2)", True),
        ("-2+3+cmd|' /C calc'!A0", True),
        ("- cmd|' /C calc'!A0", True),
        ("@SUM(A1)", True),
        ("+1-555-0100", True),
        ("--x", True),
        ("-", False),
        ("- red door", False),
        ("-5", False),
        ("+44 20 7946 0000", False),
        ("@ the depot", False),
        ("red = blue", False),
    ],
)
def test_formula_rule(value, formula):
    text = 'plate,notes\nABC123,"' + value.replace('"', '""') + '"\n'
    result = parse(text)
    assert bool(result.errors) is formula
    if formula:
        assert "notes looks like a spreadsheet formula" in result.errors[0].message
    else:
        assert result.rows[0].notes == value.strip()


def test_formula_in_cr_prefixed_field_and_in_other_formats():
    assert "formula" in parse('plate,reason\nABC123,"\r=1+1"\n').errors[0].message
    fl = EXAMPLES["fl"].replace("seen near I-95", "=cmd|' /C calc'!A0")
    assert "notes looks like a spreadsheet formula" in parse(fl).errors[0].message
    assert "formula" in parse("=A1\n", fmt="plain").errors[0].message


def test_junk_plates_and_plate_limits():
    plates = [
        "",
        "UNK",
        "unknown",
        "NONE",
        "N/A",
        "0",
        "00",
        "000",
        "NOPLATE",
        "A",
        "ABCDEFGHIJK",
        "ДОМ123",
        "ＡＢＣ１２３",
    ]
    text = "plate,state\n" + "".join(f"{p},TX\n" for p in plates) + "AB,TX\nABCDEFGHIJ,TX\n"
    result = parse(text)
    errors = messages(result)
    assert set(errors) == set(range(2, 2 + len(plates)))
    assert errors[2] == "plate is empty"
    for line in range(3, 10):
        assert "placeholder" in errors[line]
    assert "shorter than 2" in errors[11]
    assert "longer than 10" in errors[12]
    assert "transliterate" in errors[13] and "transliterate" in errors[14]
    assert [r.plate for r in result.rows] == ["AB", "ABCDEFGHIJ"]


def test_wildcards_csv_and_plain_only():
    result = parse("plate,state\ns*k3?7,tx\n*A*,TX\n?? ?,TX\nAB*CDEFGHIJK,TX\n")
    errors = messages(result)
    assert [r.plate for r in result.rows] == ["S*K3?7"]
    assert "at least 2 letters or digits" in errors[3] and "at least 2 letters or digits" in errors[4]
    assert "longer than 10" in errors[5]
    tx = parse("AB*12,TX,2025,PC,V,V1,TX1,01/01/2024\n")
    assert "csv and plain files only" in tx.errors[0].message


def test_bad_dates_are_row_errors():
    text = (
        "plate,entered,expires\n"
        "AAA111,2024-02-30,\n"
        "BBB222,,next week\n"
        "CCC333,240315,\n"
        "DDD444,13/01/2024,2024-01-01T25:00\n"
        "EEE555,2024-02-29,01/31/2030\n"
    )
    result = parse(text)
    errors = messages(result)
    assert "entered '2024-02-30' is not a date" in errors[2]
    assert "expires 'next week' is not a date" in errors[3]
    assert "entered '240315'" in errors[4]  # YYMMDD only in NCIC extracts
    assert "entered '13/01/2024'" in errors[5] and "expires '2024-01-01T25:00'" in errors[5]
    assert [r.plate for r in result.rows] == ["EEE555"]
    assert result.rows[0].expires_at == datetime(2030, 2, 1, tzinfo=ZoneInfo("UTC"))


def test_field_count_and_blank_rows_in_csv():
    text = 'plate,state\nAAA111,TX\n,\n\nBBB222\nCCC333,TX,,\nDDD444,TX,x\n"EEE555,TX\n'
    result = parse(text)
    errors = messages(result)
    assert "expected 2 fields, found 1" in errors[5]
    assert "expected 2 fields, found 3" in errors[7]
    assert 6 not in errors  # trailing empty fields are tolerated
    assert [r.plate for r in result.rows][:2] == ["AAA111", "CCC333"]


def test_every_error_is_reported_not_just_the_first():
    text = "plate,state,expires,reason\n" + "".join(f"UNK,TX,soon,=X{i}\n" for i in range(50))
    result = parse(text)
    assert len(result.errors) == 150
    assert result.rows == []


def test_duplicates_are_merged_filling_empty_fields_only():
    text = (
        "plate,state,reason,case_number,notes,expires\n"
        "abc-123,tx,Stolen vehicle,,first,\n"
        "ABC 123,TX,Other reason,C-1,second,2030-01-01\n"
        "ABC123,CA,,,,\n"
        "abc123,TX,,,,\n"
    )
    result = parse(text)
    assert result.duplicates == 2
    tx, ca = result.rows
    assert (tx.line, tx.plate_raw, tx.reason, tx.case_number, tx.notes) == (
        2,
        "abc-123",
        "Stolen vehicle",
        "C-1",
        "first",
    )
    assert tx.expires_at == datetime(2030, 1, 2, tzinfo=ZoneInfo("UTC"))
    assert (ca.plate, ca.state) == ("ABC123", "CA")


def test_duplicates_in_ncic_keep_first_code():
    text = ncic_line(vin="") + "\n" + ncic_line(code="W") + "\n"
    result = parse(text)
    assert result.duplicates == 1
    assert (result.rows[0].category, result.rows[0].vin) == ("stolen vehicle", "4T1BF1FK5CU000001")


def test_empty_and_comment_only_files():
    assert parse_bytes(b"").errors[0].message == "the file is empty"
    assert parse_bytes(b"\n \n").errors[0].message == "the file is empty"
    result = parse_bytes(b"# nothing today\n")
    assert (result.format, result.rows, result.errors) == ("plain", [], [])


def test_rows_equal_rows_built_the_ordinary_way():
    from dataclasses import asdict

    from hotlist.importing import EntryRow

    for fmt in FORMATS:
        for row in parse(EXAMPLES[fmt]).rows:
            assert row == EntryRow(**asdict(row))
            assert hash(row) == hash(EntryRow(**asdict(row)))
            assert set(vars(row)) == set(asdict(row))


def test_parse_csv_bytes_is_the_csv_format_and_gc_is_restored():
    import gc

    assert gc.isenabled()
    result = parse_csv_bytes(b"plate\nABC123\n")
    assert result.format == "csv" and [r.plate for r in result.rows] == ["ABC123"]
    assert any("'plate' column" in e.message for e in parse_csv_bytes(b"ABC123\nXYZ999\n").errors)
    assert gc.isenabled()


def test_formula_hidden_behind_unicode_space_and_plain_lines_with_delimiters():
    assert "formula" in parse("plate,notes\nABC123,\u00a0=1+1\n").errors[0].message
    assert "formula" in parse("plate,notes\nABC123,\u00a0\u2003@SUM(A1)\n").errors[0].message
    result = parse("ABC123\nXYZ999,TX\n", fmt="plain")
    assert messages(result) == {2: "line holds ',': one plate per line expected (is this another format?)"}


# --- implausible dates and unclosed quotes ------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "9999-12-31",
        "9999-01-01",
        "0001-01-01",
        "0001-01-01T00:00:00+05:00",
        "9999-12-31T23:59:59-05:00",
        "1850-06-01",
        "22000101",
    ],
)
def test_placeholder_years_in_expires_or_entered_are_row_errors(value):
    text = f"plate,entered,expires\nAAA111,,2030-01-01\nBBB222,,{value}\nCCC333,{value},\n"
    result = parse(text, tz=CHICAGO)
    errors = messages(result)
    assert set(errors) == {3, 4}, errors
    assert f"expires {value!r} is outside the plausible range (1900 to 2199)" in errors[3]
    assert f"entered {value!r}" in errors[4] and ("plausible range" in errors[4] or "future" in errors[4])


def test_entered_in_the_future_is_a_row_error_but_a_far_expiry_is_not():
    result = parse("plate,entered,expires\nAAA111,2099-01-01,\nBBB222,2024-01-01,2150-06-30\n")
    assert messages(result) == {2: "entered '2099-01-01' is in the future"}
    assert result.rows[0].expires_at == datetime(2150, 7, 1, tzinfo=ZoneInfo("UTC"))


@pytest.mark.parametrize(
    "fmt, text, message",
    [
        (
            "ncic",
            ncic_line() + "\n" + ncic_line(plate="XYZ999", entered="690101") + "\n",
            "entered '690101' is in the future",
        ),
        (
            "fl",
            "V;BCD234;FL;2025;2019;TOYT;CAM;BLK;V987654321;FL0130000;24-001234;2024-03-15;9999-12-31\n",
            "expires '9999-12-31' is outside the plausible range",
        ),
        (
            "tx_tcic",
            "ABC1234,TX,2025,PC,V,V123456789,TX2270100,01/01/0001\n",
            "entered '01/01/0001' is outside the plausible range",
        ),
    ],
)
def test_implausible_dates_are_row_errors_in_state_extracts(fmt, text, message):
    result = parse(text, fmt=fmt)
    assert [e.message for e in result.errors] == [
        message + ("" if "future" in message else " (1900 to 2199); leave it empty if there is no date")
    ]


def test_expiry_helper_refuses_placeholder_years():
    from hotlist.importing import parse_expiry

    with pytest.raises(ValueError, match="plausible range"):
        parse_expiry("9999-12-31", ZoneInfo("UTC"))
    assert parse_expiry("2030-12-31", ZoneInfo("UTC")) == datetime(2031, 1, 1, tzinfo=ZoneInfo("UTC"))


def test_an_unclosed_quote_is_a_row_error_not_a_silently_swallowed_file():
    rows = "".join(f"XYZ{i:03d},TX,stolen\n" for i in range(80))
    result = parse('plate,state,reason\nABC123,TX,"stolen\n' + rows)
    assert result.errors and result.errors[0].line == 2
    assert "closing quote is missing" in result.errors[0].message


def test_a_quote_closed_rows_too_late_is_a_row_error():
    text = 'plate,state,reason\nABC123,TX,"stolen\nXYZ001,TX,stolen\nXYZ002,TX,stolen "ok"\nXYZ003,TX,"a, b"\n'
    result = parse(text)
    assert result.errors, [r.plate for r in result.rows]
    assert result.errors[0].line == 2 and "quote" in result.errors[0].message


def test_text_after_a_closing_quote_is_a_row_error_and_quoted_multiline_notes_are_kept():
    bad = parse('plate,notes\nABC123,"red" door\n')
    assert messages(bad)[2].startswith("malformed CSV:") and "closing quote" in messages(bad)[2]
    good = parse('plate,notes\nABC123,"line one\nline two, with a comma"\nXYZ999,x\n')
    assert good.errors == [] and good.rows[0].notes == "line one\nline two, with a comma"
    assert [(r.line, r.plate) for r in good.rows] == [(2, "ABC123"), (4, "XYZ999")]


@pytest.mark.parametrize(
    "fmt, text",
    [
        (
            "fl",
            'V;BCD234;FL;2025;2019;TOYT;CAM;"BLK;V1;FL0130000\n' + "V;CDE345;FL;2025;2019;TOYT;CAM;BLK;V2;FL0130000\n",
        ),
        (
            "tx_tcic",
            'ABC1234,TX,2025,PC,V,"V1,TX2270100,03/15/2024\n' + "BCD2345,TX,2025,PC,V,V2,TX2270100,03/15/2024\n",
        ),
    ],
)
def test_an_unclosed_quote_is_a_row_error_in_delimited_extracts(fmt, text):
    result = parse(text, fmt=fmt)
    assert result.errors and result.errors[0].line == 1 and "quote" in result.errors[0].message


def test_a_cyrillic_state_and_an_accent_written_apart_are_row_errors():
    text = (
        "plate,state\nABC123,TX\nBCD234,\u0422\u0425\nCDE345,T X\nA\u0301BC123,TX\nDEF456,\u00e9\n"
        "7\u00b7XYZ\u2013123,CA\n"
    )
    result = parse(text)
    errors = messages(result)
    assert set(errors) == {3, 4, 5, 6}, errors
    assert "letters A-Z only" in errors[3] and "'\u0422\u0425'" in errors[3]
    assert "letters A-Z only" in errors[4]
    assert "combining marks (U+0301)" in errors[5]
    assert "letters A-Z only" in errors[6]
    assert [(r.plate, r.state) for r in result.rows] == [("ABC123", "TX"), ("7XYZ123", "CA")]
    ncic = parse(ncic_line(plate="A\u0301BC12") + "\n", fmt="ncic")
    assert "combining marks" in ncic.errors[0].message

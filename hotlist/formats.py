"""Hotlist file formats: layouts, list codes, detection and the per-format parsers.

Plain Python (no database). The entry point is :func:`hotlist.importing.parse_bytes`;
the rules shared by all formats (encoding, formulas, plates, wildcards, duplicates,
dates, field limits) are in the docstring of :mod:`hotlist.importing`. Line numbers
in errors are 1-based physical lines of the file (for a CSV record spanning lines:
its first line).

List codes (``code`` in every layout; one letter, case-insensitive; an unknown
code is a row error)::

    V stolen vehicle    P stolen plate      F felony vehicle    W wanted person
    A Amber alert       M missing person    S sex offender      G gang member
    T terrorist watch   B BOLO              E Silver alert      X protection order

The code's meaning goes into ``category``, and into ``reason`` when the row has none.

``csv`` - header row, then one entry per row
--------------------------------------------
Delimiter sniffed from the header among ``,`` ``;`` tab ``|``; double quotes as
usual. Header names are matched case-insensitively after turning every run of
non-alphanumerics into ``_`` ("Plate Number" = ``plate_number``). Fields and the
header names accepted for them (``plate`` is required)::

    plate         plate lic license licence license_plate licence_plate plate_number
                  plate_no plate_num license_number lic_number tag tag_number
                  registration reg vrm lpn
    state         state lis plate_state license_state licence_state reg_state
                  issuing_state jurisdiction province
    reason        reason category alert_reason alert_type list_reason
    code          code list_code category_code file_code ncic_code (a list code, above)
    case_number   case_number case case_no case_num oca incident_number report_number
    nic           nic nic_number ncic_number
    ori           ori agency agency_ori originating_agency
    vin           vin vin_number
    make          make vma vehicle_make
    model         model vmo vehicle_model
    colour        colour color vco vehicle_colour vehicle_color
    vehicle_year  year vyr vehicle_year model_year
    plate_year    plate_year liy license_year licence_year
    plate_type    plate_type lit license_type licence_type
    notes         notes note comments comment remarks mis misc
    entered       entered entry_date entered_date date_entered entered_at dte
    expires       expires exp expiry expiry_date expiration expiration_date
                  expires_at valid_until

``mapping`` ({file column: field}, column names matched like headers) overrides
these; ``ignore`` as the field drops a column. Any other column is an error naming
it. Two columns for one field, a mapping column missing from the header or an
unknown target field are header errors. Rows need as many fields as the header
(extra trailing empty fields, as spreadsheets write them, are tolerated).
Wildcards allowed. Example::

    plate,state,reason,case_number,expires
    ABC123,TX,stolen vehicle,24-0001,2030-12-31

``ncic`` - NCIC-style fixed width, one record per line, no header
-----------------------------------------------------------------
0-based, end-exclusive columns; every field is trimmed; lines shorter than 39
characters (after trailing blanks are removed) and lines holding a tab are row
errors; the state must be two letters (a shifted layout shows up there)::

    [0:1]    code          list code (required)
    [1:11]   nic           NCIC number
    [11:20]  ori           originating agency
    [20:26]  entered       entry date, YYMMDD (or any date form above)
    [26:27]  -             blank
    [27:37]  plate         LIC
    [37:39]  state         LIS, two letters (required)
    [39:43]  plate_year    LIY
    [43:47]  vehicle_year  VYR
    [47:51]  make          VMA
    [51:54]  model         VMO
    [54:57]  colour        VCO
    [57:59]  plate_type    LIT
    [59:76]  vin           VIN
    [76:96]  case_number   OCA
    [96:102] expires       YYMMDD (or any date form above)
    [102:]   notes         MIS, to the end of the line

Example::

    VV123456789TX2270100240315 ABC1234   TX20252019TOYTCAMBLKPC4T1BF1FK5CU00000124-0001234          251231 LAST SEEN I-35

``tx_tcic`` - Texas TCIC-style, 8 comma-separated fields, no header
-------------------------------------------------------------------
::

    plate,state,plate_year,plate_type,code,nic,ori,entered

``code`` is required; ``entered`` is MM/DD/YYYY (or any date form above). Exactly 8
fields. Example::

    ABC1234,TX,2025,PC,V,V123456789,TX2270100,03/15/2024

``fl`` - Florida-style, semicolon-separated, no header
------------------------------------------------------
::

    code;plate;state;plate_year;vehicle_year;make;model;colour;nic;ori;case_number;entered;expires;vin;notes

10 to 15 fields: the first 10 (through ``ori``) are required, missing trailing
fields are empty. ``code`` is required. Example::

    V;BCD234;FL;2025;2019;TOYT;CAM;BLK;V987654321;FL0130000;24-001234;2024-03-15;2024-12-31;4T1B11HK5KU000001;seen near I-95

``plain`` - one plate per line
------------------------------
Blank lines are skipped; ``#`` starts a comment (whole line or after the plate).
A line holding ``,`` ``;`` tab or ``|`` is a row error. Wildcards allowed. Example::

    # stolen, from the morning briefing
    ABC 123
    S*K3?7   # witness partial

Detection (:func:`detect_format`)
---------------------------------
Looks at the first 20 non-blank, non-comment lines. If the first is a header
(a cell names the plate field, by alias or ``mapping``; or every cell is a
word and one names a known field) the file is ``csv``. Otherwise each line votes:
``;``-separated with at least 5 fields and a list code in field 0 -> ``fl``;
exactly 8 comma-separated fields with a list code in field 4 -> ``tx_tcic``; a
list code at column 0, two letters at [37:39] and at least 39 characters ->
``ncic``; a short line (at most 24 characters) without ``,`` ``;`` tab or ``|``
-> ``plain``. The most votes win (ties: the first line's vote). No votes is an
:class:`~hotlist.importing.ImportFailed` asking for an explicit format.
"""

from __future__ import annotations

import csv
import gc
import io
import re
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import fields, replace
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from itertools import repeat
from operator import gt, itemgetter
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from .importing import (
    EARLIEST_DATE,
    ENTERED_FUTURE_SLACK,
    FORMATS,
    JUNK_PLATES,
    LATEST_DATE,
    MAX_PLATE_LEN,
    EntryRow,
    ImportFailed,
    ParseResult,
    RowError,
    check_plate,
    check_state,
    prepare_text,
)

if TYPE_CHECKING:
    from _csv import Reader

__all__ = [
    "CATEGORY_CODES",
    "CSV_ALIASES",
    "CSV_FIELDS",
    "EXAMPLES",
    "FL_FIELDS",
    "FORMATS",
    "NCIC_LAYOUT",
    "TX_TCIC_FIELDS",
    "detect_format",
    "parse_date",
    "parse_text",
]

CATEGORY_CODES = {
    "V": "stolen vehicle",
    "P": "stolen plate",
    "F": "felony vehicle",
    "W": "wanted person",
    "A": "Amber alert",
    "M": "missing person",
    "S": "sex offender",
    "G": "gang member",
    "T": "terrorist watch",
    "B": "BOLO",
    "E": "Silver alert",
    "X": "protection order",
}

NCIC_LAYOUT: tuple[tuple[str, int, int | None], ...] = (
    ("code", 0, 1),
    ("nic", 1, 11),
    ("ori", 11, 20),
    ("entered", 20, 26),
    ("plate", 27, 37),
    ("state", 37, 39),
    ("plate_year", 39, 43),
    ("vehicle_year", 43, 47),
    ("make", 47, 51),
    ("model", 51, 54),
    ("colour", 54, 57),
    ("plate_type", 57, 59),
    ("vin", 59, 76),
    ("case_number", 76, 96),
    ("expires", 96, 102),
    ("notes", 102, None),
)
NCIC_MIN_CHARS = 39

TX_TCIC_FIELDS = ("plate", "state", "plate_year", "plate_type", "code", "nic", "ori", "entered")
FL_FIELDS = (
    "code",
    "plate",
    "state",
    "plate_year",
    "vehicle_year",
    "make",
    "model",
    "colour",
    "nic",
    "ori",
    "case_number",
    "entered",
    "expires",
    "vin",
    "notes",
)
FL_MIN_FIELDS = 10

CSV_FIELDS = (
    "plate",
    "state",
    "reason",
    "code",
    "case_number",
    "nic",
    "ori",
    "vin",
    "make",
    "model",
    "colour",
    "vehicle_year",
    "plate_year",
    "plate_type",
    "notes",
    "entered",
    "expires",
    "action",
)
_ALIAS_LISTS = {
    "plate": "plate lic license licence license_plate licence_plate plate_number plate_no plate_num license_number "
    "lic_number tag tag_number registration reg vrm lpn",
    "state": "state lis plate_state license_state licence_state reg_state issuing_state jurisdiction province",
    "reason": "reason category alert_reason alert_type list_reason",
    "code": "code list_code category_code file_code ncic_code",
    "case_number": "case_number case case_no case_num oca incident_number report_number",
    "nic": "nic nic_number ncic_number",
    "ori": "ori agency agency_ori originating_agency",
    "vin": "vin vin_number",
    "make": "make vma vehicle_make",
    "model": "model vmo vehicle_model",
    "colour": "colour color vco vehicle_colour vehicle_color",
    "vehicle_year": "year vyr vehicle_year model_year",
    "plate_year": "plate_year liy license_year licence_year",
    "plate_type": "plate_type lit license_type licence_type",
    "notes": "notes note comments comment remarks mis misc",
    "entered": "entered entry_date entered_date date_entered entered_at dte",
    "expires": "expires exp expiry expiry_date expiration expiration_date expires_at valid_until",
    "action": "action change operation op transaction",
}
#: Normalised header name -> field.
CSV_ALIASES = {alias: name for name, aliases in _ALIAS_LISTS.items() for alias in aliases.split()}
IGNORE = "ignore"

#: One realistic sample per format (the same lines as in the docstring above).
EXAMPLES = {
    "csv": "plate,state,reason,case_number,expires\nABC123,TX,stolen vehicle,24-0001,2030-12-31\n",
    "ncic": "VV123456789TX2270100240315 ABC1234   TX20252019TOYTCAMBLKPC4T1BF1FK5CU00000124-0001234          251231 LAST SEEN I-35\n",
    "tx_tcic": "ABC1234,TX,2025,PC,V,V123456789,TX2270100,03/15/2024\n",
    "fl": "V;BCD234;FL;2025;2019;TOYT;CAM;BLK;V987654321;FL0130000;24-001234;2024-03-15;2024-12-31;"
    "4T1B11HK5KU000001;seen near I-95\n",
    "plain": "# stolen, from the morning briefing\nABC 123\nS*K3?7   # witness partial\n",
}

# Longest accepted value per field (longer is a row error).
LIMITS = {
    "plate": 200,
    "state": 8,
    "reason": 100,
    "code": 10,
    "case_number": 50,
    "notes": 2000,
    "nic": 20,
    "ori": 20,
    "vin": 20,
    "make": 30,
    "model": 30,
    "colour": 20,
    "vehicle_year": 10,
    "plate_year": 10,
    "plate_type": 4,
    "entered": 40,
    "expires": 40,
    "action": 10,
}
_UPPER = ("state", "nic", "ori", "vin", "plate_type")
# Entry fields a record carries besides its plate and state (an import writes them; duplicates merge them).
RECORD_FIELDS = (
    "reason",
    "case_number",
    "notes",
    "expires_at",
    "category",
    "nic",
    "ori",
    "vin",
    "make",
    "model",
    "colour",
    "vehicle_year",
    "plate_year",
    "plate_type",
    "entered_at",
)

_HEADER_JUNK = re.compile(r"[^a-z0-9]+")
_WORD = re.compile(r"[a-z_][a-z0-9_]*\Z")
_FORMULA_FIRST = frozenset("=+-@")
_FORMULA_PREFIXES = repeat(("=", "+", "-", "@"))
_FORMULA = re.compile(
    r"""
    =                                          # '=' always starts a formula
  | [+\-@] (?: [A-Za-z_({$"'=+\-@]             # glued to a name, bracket, quote or operator: -SUM(  @cmd  +A1  --x
           | \s*[A-Za-z_][\w.]*\s*[(|!]        # a function call, DDE or sheet reference: - cmd|' /C calc'!A0
           | \s*[\d.,]+\s*[-+*/^&|(%<>=:]      # a number then an operator: -2+3+cmd|...  +1-555-0100
           )
""",
    re.X,
)
_DELIMITERS = (",", ";", "\t", "|")


def normalize_header(name: str) -> str:
    return _HEADER_JUNK.sub("_", name.strip().lower()).strip("_")


def _fail(message: str) -> ImportFailed:
    return ImportFailed([RowError(0, message)])


# --- dates ------------------------------------------------------------------------------------


@lru_cache(maxsize=65536)
def parse_date(value: str, tz: ZoneInfo, end_of_day: bool, yymmdd: bool) -> datetime | None:
    """A stripped date value as an aware datetime, or None when it is not one of the accepted forms."""
    try:
        n = len(value)
        day: date | None = None
        if n == 10 and value[4] == "-" and value[7] == "-":
            day = date.fromisoformat(value)
        elif "/" in value:
            parts = value.split("/")
            if len(parts) != 3 or len(parts[2]) != 4 or not all(p.isdigit() and p.isascii() for p in parts):
                return None
            day = date(int(parts[2]), int(parts[0]), int(parts[1]))
        elif value.isdigit() and value.isascii() and (n == 8 or (n == 6 and yymmdd)):
            if n == 8:
                day = date(int(value[:4]), int(value[4:6]), int(value[6:]))
            else:
                yy = int(value[:2])
                day = date((2000 if yy < 70 else 1900) + yy, int(value[2:4]), int(value[4:]))
        elif n > 10 and value[4] == "-" and value[7] == "-" and value[10] in "Tt ":
            parsed = datetime.fromisoformat(value)
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=tz)
        else:
            return None
    except ValueError:
        return None
    if end_of_day:
        if day == date.max:  # "through 9999-12-31": no next day to start; the range check refuses it
            return datetime.combine(day, time.max, tzinfo=tz)
        day += timedelta(days=1)
    return datetime.combine(day, time.min, tzinfo=tz)


_DATE_FORMS = "YYYY-MM-DD, MM/DD/YYYY, YYYYMMDD or an ISO date-time"


def date_problem(name: str, raw: str, value: datetime, now: datetime) -> str | None:
    """Why a parsed ``entered``/``expires`` date is implausible, or None (see EARLIEST_DATE, LATEST_DATE)."""
    if not EARLIEST_DATE <= value < LATEST_DATE:
        return (
            f"{name} {raw!r} is outside the plausible range ({EARLIEST_DATE.year} to {LATEST_DATE.year - 1}); "
            f"leave it empty if there is no date"
        )
    if name == "entered" and value > now + ENTERED_FUTURE_SLACK:
        return f"entered {raw!r} is in the future"
    return None


# --- rows -------------------------------------------------------------------------------------


_ROW_FIELDS: dict[str, Any] = {f.name: f.default for f in fields(EntryRow)}
_ROW_FIELDS.update(line=0, plate="", plate_raw="")
_new_object = object.__new__


# Values of the csv ``action`` column (delta imports); empty means add.
_ADD_ACTIONS = frozenset({"", "add", "a", "+", "new", "insert", "update", "u"})
_REMOVE_ACTIONS = frozenset({"remove", "delete", "del", "d", "-", "cancel", "c", "x", "clear"})


class _Builder:
    """Turns rows of raw text values into EntryRows, collecting row errors and merging duplicates.

    ``columns``: (index in the row's values, field) for every field the format has.
    """

    def __init__(
        self,
        result: ParseResult,
        tz: ZoneInfo,
        columns: list[tuple[int, str]],
        *,
        wildcards: bool,
        code_required: bool,
        yymmdd: bool = False,
    ):
        self.result = result
        self.errors = result.errors
        self.rows = result.rows
        self.tz = tz
        self.names = tuple(name for _, name in columns)
        self.limits = tuple(LIMITS[name] for name in self.names)
        self.upper = tuple(name for name in self.names if name in _UPPER)
        indices = [index for index, _ in columns]
        # values -> the format's fields, in order (itemgetter of one index returns the item, not a tuple)
        self.pick = (lambda values: (values[indices[0]],)) if len(indices) == 1 else itemgetter(*indices)
        self.blank: dict[str, Any] = {**_ROW_FIELDS, "code": "", "entered": "", "expires": ""}
        self.wildcards = wildcards
        self.code_required = code_required
        self.yymmdd = yymmdd
        self.seen: dict[tuple[str, str], int] = {}
        #: False when a scan of the whole (delimited) file found no field that could start with = + - @.
        self.formulas_possible = True
        self.now = datetime.now(UTC)
        self.dates: dict[tuple[str, str], tuple[datetime | None, str]] = {}

    def add(self, line: int, values: list[str]) -> None:
        errors = self.errors
        before = len(errors)
        # The checks run in C over the whole row (map/any); only a row that fails one is looked at field by field.
        values = list(map(str.strip, self.pick(values)))
        if (self.formulas_possible and any(map(str.startswith, values, _FORMULA_PREFIXES))) or any(
            map(gt, map(len, values), self.limits)
        ):
            for name, limit, value in zip(self.names, self.limits, values):
                if value[:1] in _FORMULA_FIRST and _FORMULA.match(value):
                    errors.append(RowError(line, f"{name} looks like a spreadsheet formula ({value[:20]!r})"))
                elif len(value) > limit:
                    errors.append(RowError(line, f"{name} is longer than {limit} characters"))
        record = self.blank.copy()
        record.update(zip(self.names, values))
        state = record["state"]
        if state and not (state.isalpha() and state.isascii()):
            errors.append(RowError(line, check_state(state)[1] or "bad state"))
        for name in self.upper:
            record[name] = record[name].upper()
        plate_raw = record["plate"]
        plate = plate_raw.upper()
        if not (
            plate_raw.isalnum()
            and plate_raw.isascii()
            and 2 <= len(plate) <= MAX_PLATE_LEN
            and plate not in JUNK_PLATES
        ):  # else: the common case, checked inline for speed
            plate, problem = check_plate(plate_raw, wildcards=self.wildcards)
            if problem:
                errors.append(RowError(line, problem))
        record["line"] = line
        record["plate"] = plate
        record["plate_raw"] = plate_raw[:32]
        code = record.pop("code")
        if code:
            category = CATEGORY_CODES.get(code.upper(), "")
            if not category:
                errors.append(RowError(line, f"unknown list code {code!r} (known: {', '.join(CATEGORY_CODES)})"))
            record["category"] = category
            if not record["reason"]:
                record["reason"] = category
        elif self.code_required:
            errors.append(RowError(line, "the list code is missing"))
        value = record["action"].lower()
        if value in _ADD_ACTIONS:
            record["action"] = "add"
        elif value in _REMOVE_ACTIONS:
            record["action"] = "remove"
        else:
            errors.append(RowError(line, f"action {record['action']!r} is neither add nor remove"))
        value = record.pop("entered")
        if value:
            checked = self.dates.get(("entered", value)) or self._check_date("entered", value)
            record["entered_at"] = checked[0]
            if checked[1]:
                errors.append(RowError(line, checked[1]))
        value = record.pop("expires")
        if value:
            checked = self.dates.get(("expires", value)) or self._check_date("expires", value)
            record["expires_at"] = checked[0]
            if checked[1]:
                errors.append(RowError(line, checked[1]))
        value = record["vehicle_year"]
        if value and not (len(value) == 4 and value.isdigit() and value.isascii()):
            errors.append(RowError(line, f"vehicle year {value!r} is not a 4-digit year"))
        value = record["plate_year"]
        if value and not (len(value) == 4 and value.isdigit() and value.isascii()):
            if value.upper() == "NX":
                record["plate_year"] = "NX"
            else:
                errors.append(RowError(line, f"plate year {value!r} is not a 4-digit year or NX"))
        if len(errors) != before:
            return
        key = (plate, record["state"])
        index = self.seen.get(key)
        if index is None:
            self.seen[key] = len(self.rows)
            # == EntryRow(**record), without the frozen dataclass's slow __init__ (about 6x faster,
            # which matters for million-row files); record holds exactly EntryRow's fields.
            row = _new_object(EntryRow)
            row.__dict__.update(record)
            self.rows.append(row)
            return
        self.result.duplicates += 1
        first = self.rows[index]
        fill = {name: record[name] for name in RECORD_FIELDS if not getattr(first, name) and record[name]}
        if fill:
            self.rows[index] = replace(first, **fill)

    def _check_date(self, name: str, value: str) -> tuple[datetime | None, str]:
        """(date, problem or ""), remembered per value: a file holds few distinct dates."""
        when = parse_date(value, self.tz, name == "expires", self.yymmdd)
        if when is None:
            problem = f"{name} {value!r} is not a date ({self._date_forms()})"
        else:
            problem = date_problem(name, value, when, self.now) or ""
        self.dates[(name, value)] = (when, problem)
        return when, problem

    def _date_forms(self) -> str:
        return _DATE_FORMS + (" or YYMMDD" if self.yymmdd else "")


# --- parsers ----------------------------------------------------------------------------------


def _formulas_possible(text: str, delimiter: str) -> bool:
    """Could any field of this delimited text start with = + - @ (after blanks or a quote)?
    Conservative: True also for such characters merely after a delimiter inside a quoted value."""
    return re.search(rf'(?:^|[{re.escape(delimiter)}"])[^\S\n]*[=+\-@]', text, re.M) is not None


def _sniff_delimiter(header: str) -> str:
    counts = [(header.count(d), -i, d) for i, d in enumerate(_DELIMITERS)]
    best = max(counts)
    return best[2] if best[0] else ","


def _resolve_field(name: str) -> str | None:
    key = normalize_header(name)
    if key == IGNORE:
        return IGNORE
    if key in CSV_FIELDS:
        return key
    return CSV_ALIASES.get(key)


def _csv_columns(header: list[str], mapping: dict[str, str] | None) -> tuple[list[tuple[int, str]], list[str]]:
    """[(column index, field)] for the header, and header errors."""
    problems: list[str] = []
    names = [normalize_header(h) for h in header]
    while len(names) > 1 and not names[-1]:  # trailing empty header cells written by spreadsheets
        names.pop()
    explicit: dict[str, str] = {}
    for column, wanted in (mapping or {}).items():
        key = normalize_header(column)
        resolved = _resolve_field(wanted)
        if resolved is None:
            problems.append(
                f"mapping {column!r} -> {wanted!r}: unknown field (fields: {', '.join(CSV_FIELDS)}, or {IGNORE})"
            )
        elif key not in names:
            problems.append(f"mapping names column {column!r}, which is not in the header")
        else:
            explicit[key] = resolved
    columns: list[tuple[int, str]] = []
    unknown: list[str] = []
    owner: dict[str, str] = {}
    for index, name in enumerate(names):
        target = explicit.get(name) or CSV_ALIASES.get(name)
        if target is None:
            unknown.append(repr(header[index].strip()) if name else f"column {index + 1} (no name)")
            continue
        if target == IGNORE:
            continue
        if target in owner:
            problems.append(f"columns {owner[target]!r} and {header[index].strip()!r} both give the {target} field")
            continue
        owner[target] = header[index].strip()
        columns.append((index, target))
    if unknown:
        problems.append(
            f"unknown column(s) {', '.join(unknown)}; known fields: {', '.join(CSV_FIELDS)} "
            f"(map a column to '{IGNORE}' to skip it)"
        )
    if "plate" not in owner and not problems:
        found = ", ".join(h.strip() for h in header if h.strip()) or "nothing"
        problems.append(f"the header must name a 'plate' column (found: {found})")
    elif "plate" not in owner:
        problems.append("the header must name a 'plate' column")
    return columns, problems


def _first_line(text: str) -> tuple[int, str]:
    for number, line in enumerate(text.split("\n", 50), start=1):
        if line.strip():
            return number, line
    return 0, ""


def _reader(text: str, delimiter: str) -> Reader:
    """A strict csv.reader: a quote left open to the end of the file, or text after a closing quote,
    is an error rather than a field that silently swallows the rows after it."""
    return csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)


def _csv_problem(exc: csv.Error) -> str:
    message = str(exc)
    if "unexpected end of data" in message:
        return "a quoted field starts on this line and its closing quote is missing (it would swallow every later row)"
    if "expected after" in message:
        return f'{message}: text follows a closing quote; quote the whole field and double the quotes inside it ("")'
    return message


def _swallowed_rows(values: list[str], looks_like_row: Callable[[str], bool]) -> bool:
    """Whether a record spanning several lines holds, after its first line, two or more lines that look
    like whole rows of their own: the sign of a quote left open and closed rows later by another."""
    return any("\n" in value and sum(map(looks_like_row, value.split("\n")[1:])) >= 2 for value in values)


def _row_like(delimiter: str, width: int, plate_index: int) -> Callable[[str], bool]:
    """A line with exactly a row's fields and a plate-like value (2-10 letters or digits) in the plate column."""

    def looks_like_row(line: str) -> bool:
        if line.count(delimiter) != width - 1:
            return False
        plate = line.split(delimiter)[plate_index].strip().strip('"')
        return 2 <= len(plate) <= MAX_PLATE_LEN and plate.isalnum() and plate.isascii()

    return looks_like_row


def _records(
    reader: Reader, errors: list[RowError], what: str, looks_like_row: Callable[[str], bool] | None = None
) -> Iterator[tuple[int, list[str]]]:
    """(line number where the record starts, values) for each record of a csv.reader; a malformed
    record ends the file with a row error (the csv module cannot resynchronise after one). A record
    whose quoted field runs over lines that look like rows of their own is a row error too."""
    start = reader.line_num  # lines consumed so far; a record starts on the next one
    while True:
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            errors.append(RowError(start + 1, f"{what}: {_csv_problem(exc)}"))
            return
        if looks_like_row is not None and reader.line_num - start > 2 and _swallowed_rows(values, looks_like_row):
            errors.append(
                RowError(
                    start + 1,
                    f"{what}: a quoted field starts on this line and runs to line "
                    f"{reader.line_num} over what look like whole rows; is a closing "
                    f"quote missing?",
                )
            )
        else:
            yield start + 1, values
        start = reader.line_num


def _parse_csv(text: str, result: ParseResult, tz: ZoneInfo, mapping: dict[str, str] | None) -> None:
    number, header_line = _first_line(text)
    delimiter = _sniff_delimiter(header_line)
    reader = _reader(text, delimiter)
    try:
        header: list[str] = []
        while not header:
            header = next(reader)
    except csv.Error as exc:
        result.errors.append(RowError(number, f"unreadable header: {exc}"))
        return
    columns, problems = _csv_columns(header, mapping)
    if problems:
        result.errors.extend(RowError(number, p) for p in problems)
        return
    width = len(header)
    plate_index = next(i for i, name in columns if name == "plate")
    builder = _Builder(result, tz, columns, wildcards=True, code_required=False)
    builder.formulas_possible = _formulas_possible(text, delimiter)
    add = builder.add
    errors = result.errors
    for line, values in _records(reader, errors, "malformed CSV", _row_like(delimiter, width, plate_index)):
        if len(values) != width:
            if not any(v.strip() for v in values):
                continue
            if len(values) < width or any(v.strip() for v in values[width:]):
                errors.append(RowError(line, f"expected {width} fields, found {len(values)}"))
                continue
        elif not values[plate_index].strip() and not any(v.strip() for v in values):
            continue
        add(line, values)


def _parse_delimited(
    text: str, result: ParseResult, tz: ZoneInfo, *, delimiter: str, fields: tuple[str, ...], minimum: int
) -> None:
    builder = _Builder(result, tz, list(enumerate(fields)), wildcards=False, code_required=True)
    builder.formulas_possible = _formulas_possible(text, delimiter)
    add = builder.add
    errors = result.errors
    reader = _reader(text, delimiter)
    maximum = len(fields)
    expected = f"{maximum}" if minimum == maximum else f"{minimum} to {maximum}"
    plate_index = fields.index("plate")
    row_like = [_row_like(delimiter, n, plate_index) for n in range(minimum, maximum + 1)]
    for line, values in _records(reader, errors, "malformed line", lambda text: any(f(text) for f in row_like)):
        n = len(values)
        if n <= 1 and not (values and values[0].strip()):
            continue
        if n < minimum or n > maximum:
            errors.append(RowError(line, f"expected {expected} {delimiter!r}-separated fields, found {n}"))
            continue
        if n < maximum:
            values += [""] * (maximum - n)
        add(line, values)


def _parse_ncic(text: str, result: ParseResult, tz: ZoneInfo) -> None:
    add = _Builder(
        result,
        tz,
        [(i, name) for i, (name, _, _) in enumerate(NCIC_LAYOUT)],
        wildcards=False,
        code_required=True,
        yymmdd=True,
    ).add
    slices = [slice(a, b) for _, a, b in NCIC_LAYOUT]
    errors = result.errors
    for number, line in enumerate(text.split("\n"), start=1):
        line = line.rstrip()
        if not line:
            continue
        if len(line) < NCIC_MIN_CHARS:
            errors.append(
                RowError(
                    number,
                    f"line has {len(line)} characters; an NCIC record needs at least "
                    f"{NCIC_MIN_CHARS} (code, NIC, ORI, date, plate at 27-37, state at 37-39)",
                )
            )
            continue
        if "\t" in line:
            errors.append(RowError(number, "line holds a tab; fixed-width records must be padded with spaces"))
            continue
        state = line[37:39]
        if not (state.isalpha() and state.isascii()):
            errors.append(
                RowError(number, f"state {state!r} at columns 37-39 is not two letters (is the layout shifted?)")
            )
            continue
        add(number, [line[cut] for cut in slices])


def _parse_plain(text: str, result: ParseResult, tz: ZoneInfo) -> None:
    add = _Builder(result, tz, [(0, "plate")], wildcards=True, code_required=False).add
    for number, line in enumerate(text.split("\n"), start=1):
        if "#" in line:
            line = line[: line.index("#")]
        if not line.strip():
            continue
        if any(d in line for d in _DELIMITERS):
            delimiter = next(d for d in _DELIMITERS if d in line)
            result.errors.append(
                RowError(number, f"line holds {delimiter!r}: one plate per line expected (is this another format?)")
            )
            continue
        add(number, [line])


_PARSERS: dict[str, Callable[..., None]] = {
    "ncic": _parse_ncic,
    "tx_tcic": lambda text, result, tz: _parse_delimited(
        text, result, tz, delimiter=",", fields=TX_TCIC_FIELDS, minimum=len(TX_TCIC_FIELDS)
    ),
    "fl": lambda text, result, tz: _parse_delimited(
        text, result, tz, delimiter=";", fields=FL_FIELDS, minimum=FL_MIN_FIELDS
    ),
    "plain": _parse_plain,
}


# --- detection --------------------------------------------------------------------------------


def _split(line: str, delimiter: str) -> list[str]:
    try:
        return next(csv.reader([line], delimiter=delimiter))
    except (csv.Error, StopIteration):
        return line.split(delimiter)


def _is_header(line: str, mapping: dict[str, str] | None) -> bool:
    cells = [normalize_header(c) for c in _split(line, _sniff_delimiter(line))]
    mapped = {normalize_header(k) for k in (mapping or {})}
    if any(CSV_ALIASES.get(c) == "plate" or c in mapped for c in cells):
        return True
    named = [c for c in cells if c]
    return (
        bool(named)
        and all(_WORD.match(c) for c in named)
        and any(c in CSV_ALIASES for c in named)
        and (len(named) > 1 or named[0] not in CATEGORY_CODES)
    )


def _vote(line: str) -> str | None:
    if ";" in line:
        cells = _split(line, ";")
        if len(cells) >= 5 and cells[0].strip().upper() in CATEGORY_CODES:
            return "fl"
    if "," in line:
        cells = _split(line, ",")
        if len(cells) == len(TX_TCIC_FIELDS) and cells[4].strip().upper() in CATEGORY_CODES:
            return "tx_tcic"
    if line[:1].upper() in CATEGORY_CODES and len(line.rstrip()) >= NCIC_MIN_CHARS and line[37:39].isalpha():
        return "ncic"
    stripped = line.split("#", 1)[0].strip()
    if stripped and len(stripped) <= 24 and not any(d in stripped for d in _DELIMITERS):
        return "plain"
    return None


def detect_format(text: str, *, mapping: dict[str, str] | None = None) -> str:
    """One of FORMATS for a decoded file; ImportFailed when nothing fits (see the module docstring)."""
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    sample: list[str] = []
    for line in text.split("\n", 2000):
        if line.strip() and not line.lstrip().startswith("#"):
            sample.append(line)
            if len(sample) == 20:
                break
    if not sample:
        return "plain" if text.strip() else "csv"
    if _is_header(sample[0], mapping):
        return "csv"
    votes = [_vote(line) for line in sample]
    counted = Counter(v for v in votes if v)
    if not counted:
        raise _fail(
            f"could not recognise the file's format (first line: {sample[0][:60]!r}); choose one of "
            f"{', '.join(FORMATS)} explicitly"
        )
    top = max(counted.values())
    winners = [v for v in votes if v and counted[v] == top]
    return votes[0] if votes[0] in winners else winners[0]


# --- entry point ------------------------------------------------------------------------------


def parse_text(
    text: str, *, fmt: str | None = None, mapping: dict[str, str] | None = None, tz: ZoneInfo | None = None
) -> ParseResult:
    """Parse decoded text (see :func:`hotlist.importing.parse_bytes`)."""
    tz = tz or ZoneInfo("UTC")
    if fmt is not None and fmt not in FORMATS:
        raise _fail(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    result = ParseResult()
    text = prepare_text(text, result)
    if not text.strip():
        result.format = fmt or ""
        if not result.errors:
            result.errors.append(RowError(1, "the file is empty"))
        return result
    result.format = fmt or detect_format(text, mapping=mapping)
    if mapping and result.format != "csv":
        raise _fail(f"a column mapping applies to csv files only (this file is {result.format})")
    # A million rows are a million new objects, none of them in reference cycles; the cyclic garbage
    # collector would walk the growing list over and over (about a quarter of the time). Off while parsing.
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        if result.format == "csv":
            _parse_csv(text, result, tz, mapping)
        else:
            _PARSERS[result.format](text, result, tz)
    finally:
        if gc_was_enabled:
            gc.enable()
    result.errors.sort(key=lambda e: e.line)
    return result

"""Parsing hotlist files into validated rows. Plain Python: no database access.

Imports are all-or-nothing: the parsers return every row error found (with its
line number), and the caller writes nothing unless ``ParseResult.errors`` is
empty. Only whole-file problems (not UTF-8, binary, unknown format) raise
:class:`ImportFailed`.

Public API::

    parse_bytes(data, *, fmt=None, mapping=None, tz=None) -> ParseResult
    detect_format(text, *, mapping=None) -> str        # one of FORMATS
    parse_csv_bytes(data, *, tz=None, mapping=None)     # parse_bytes(..., fmt="csv")
    FORMATS = ("csv", "ncic", "tx_tcic", "fl", "plain")

The layouts of the formats and the list-code table are documented in
:mod:`hotlist.formats`. Rules shared by every format:

- Encoding: UTF-8, with or without BOM. Anything else is refused (with a hint
  when the bytes look like UTF-16/32, Latin-1/Windows-1252, an Excel workbook,
  a ZIP, a PDF...). NUL bytes mean binary and are refused. Line ends may be
  LF, CRLF or CR; a trailing Ctrl-Z (DOS end of file) is dropped. A few other
  control characters are row errors on their lines; many mean binary.
- Lines longer than 4096 characters are row errors.
- Spreadsheet formulas (CSV injection): every text field is checked after
  stripping surrounding whitespace (so a leading tab or CR does not hide
  anything). It is refused ("looks like a spreadsheet formula") when it

  * starts with ``=``; or
  * starts with ``+``, ``-`` or ``@`` immediately followed by a letter, ``_``,
    ``(``, ``{``, ``$``, a quote or another of ``=+-@`` (``-SUM(A1)``, ``@cmd``,
    ``+A1``, ``--x``); or
  * starts with ``+``, ``-`` or ``@``, optional spaces, then a name directly
    followed (spaces allowed) by ``(``, ``|`` or ``!`` (``- cmd|' /C calc'!A0``,
    ``+ HYPERLINK(...)``); or
  * starts with ``+``, ``-`` or ``@``, optional spaces, a number and then an
    operator (``-2+3+cmd|...``, ``+1-555-0100``).

  So ``-`` alone (an empty case number), ``- red door``, ``-5``, ``+44 20 7946``
  and ``@ the depot`` are kept; they are not formulas a spreadsheet would run.
- Plates: upper-cased; spaces, dashes and symbols removed, leaving A-Z and 0-9.
  Letters or digits outside ASCII (Cyrillic, full-width...) and combining marks
  (a separately written accent) are row errors, not silently dropped. Refused: empty, placeholders (``UNK``, ``UNKNOWN``,
  ``NONE``, ``NA``, ``N/A``, ``NOPLATE``, ``0``, ``00``, ``000``), shorter than 2 or
  longer than 10 characters.
- Wildcard entries (partial plates from witnesses), csv and plain formats only:
  ``*`` (any run, also empty) and ``?`` (one character) are kept, runs of ``*``
  collapse to one; at least 2 and at most 10 literal characters; at most 16
  characters in all. In the other formats a ``*`` or ``?`` in a plate is a row
  error (it would otherwise silently become a different, exact plate).
- Duplicates (same normalised plate and state): the first row is kept and its
  empty fields are filled from the later duplicates (non-empty fields of the
  first row are never overwritten); each merged row counts in
  ``ParseResult.duplicates``.
- Dates (``entered``, ``expires``): ``YYYY-MM-DD``, ISO date-time
  (``YYYY-MM-DDTHH:MM[:SS][+HH:MM|Z]``, space instead of ``T`` accepted; naive
  means the import time zone), ``MM/DD/YYYY``, ``YYYYMMDD``, and ``YYMMDD`` in
  NCIC extracts only (``YY`` < 70 is 20YY, else 19YY). A date without time means
  the start of that day for ``entered`` and "valid through that day" (start of
  the next day) for ``expires``, in the import time zone. Dates before 1900 or
  after 2199 are row errors (a year 1 or 9999 is a placeholder, not a date), and
  so is an ``entered`` date more than a day in the future.
- Years: ``vehicle_year`` 4 digits; ``plate_year`` 4 digits or ``NX``
  (non-expiring).
- List codes (NCIC ``V``, ``P``, ...) become words in ``category``, and also the
  ``reason`` when the row has no reason of its own. Unknown codes are row errors.
- Field limits (longer is a row error): state 8, reason 100, case_number 50,
  notes 2000, nic 20, ori 20, vin 20, make 30, model 30, colour 20,
  plate_type 4. ``state``, ``nic``, ``ori``, ``vin`` and ``plate_type`` are
  upper-cased. A ``state`` is letters A-Z only (a Cyrillic "ТХ" that looks like
  TX is a row error).
"""

from __future__ import annotations

import io
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import IO
from zoneinfo import ZoneInfo

__all__ = [
    "FORMATS",
    "EntryRow",
    "ImportFailed",
    "ParseResult",
    "RowError",
    "check_plate",
    "check_state",
    "decode_upload",
    "detect_format",
    "normalize_plate",
    "parse_bytes",
    "parse_csv",
    "parse_csv_bytes",
    "parse_expiry",
]

#: Format names accepted by ``parse_bytes(fmt=...)`` (for UIs and ``--format``).
FORMATS = ("csv", "ncic", "tx_tcic", "fl", "plain")

_NON_ALNUM = re.compile(r"[^A-Z0-9]")
JUNK_PLATES = frozenset({"UNK", "UNKNOWN", "NONE", "NA", "NOPLATE", "0", "00", "000"})
MAX_PLATE_LEN = 10
MAX_PATTERN_LEN = 16
MAX_LINE_CHARS = 4096
#: More control characters than this (other than tab and line ends) means the file is binary.
MAX_CONTROL_CHARS = 20
#: Plausible ``entered``/``expires`` dates: from EARLIEST_DATE up to (not including) LATEST_DATE.
EARLIEST_DATE = datetime(1900, 1, 1, tzinfo=UTC)
LATEST_DATE = datetime(2200, 1, 1, tzinfo=UTC)
#: An ``entered`` date may be this far ahead of now (time zones, clocks); later is a row error.
ENTERED_FUTURE_SLACK = timedelta(days=1)
#: Kept for callers of the first CSV importer; see ``hotlist.formats.CSV_FIELDS`` for all columns.
KNOWN_COLUMNS = ("plate", "state", "reason", "case_number", "notes", "expires")


def normalize_plate(raw: str) -> str:
    """Upper case, letters and digits only (spaces, dashes and symbols removed)."""
    return _NON_ALNUM.sub("", raw.upper())


@dataclass(frozen=True)
class RowError:
    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


@dataclass(frozen=True)
class EntryRow:
    line: int
    plate: str
    plate_raw: str
    state: str = ""
    reason: str = ""
    case_number: str = ""
    notes: str = ""
    expires_at: datetime | None = None
    # Record fields of state/NCIC extracts (all optional).
    category: str = ""  # list code meaning, e.g. "stolen vehicle" (NCIC code V)
    nic: str = ""  # NCIC number
    ori: str = ""  # originating agency
    vin: str = ""
    make: str = ""
    model: str = ""
    colour: str = ""
    vehicle_year: str = ""
    plate_year: str = ""
    plate_type: str = ""
    entered_at: datetime | None = None
    action: str = "add"  # delta imports: "add" (add or update) or "remove"


@dataclass
class ParseResult:
    rows: list[EntryRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    duplicates: int = 0
    format: str = ""  # the format used: one of FORMATS


class ImportFailed(Exception):
    def __init__(self, errors: list[RowError]):
        self.errors = errors
        super().__init__(f"{len(errors)} error(s); nothing was imported")


# --- plates -----------------------------------------------------------------------------------

_WILD_JUNK = re.compile(r"[^A-Z0-9*?]")
_STARS = re.compile(r"\*+")


def _foreign_chars(raw: str) -> str:
    return "".join(dict.fromkeys(c for c in raw if c.isalnum() and not c.isascii()))


def _marks(raw: str) -> str:
    """Combining marks (accents written as a separate character): stripping them would change the plate."""
    return "".join(dict.fromkeys(f"U+{ord(c):04X}" for c in raw if unicodedata.category(c).startswith("M")))


def check_state(raw: str) -> tuple[str, str | None]:
    """(upper-cased state code, problem or None): ASCII letters only (TX, ON, D), or empty."""
    state = raw.strip()
    if not state:
        return "", None
    if not (state.isascii() and state.isalpha()):
        foreign = "".join(dict.fromkeys(c for c in state if not c.isascii()))
        what = f" (not A-Z: {foreign!r})" if foreign else ""
        return state.upper(), f"state {state!r} must be letters A-Z only, such as TX{what}"
    return state.upper(), None


def check_plate(raw: str, *, wildcards: bool = False) -> tuple[str, str | None]:
    """(normalised plate, problem or None). With ``wildcards``, ``*`` and ``?`` are kept."""
    if raw.isalnum() and raw.isascii():  # the common case, fast
        plate = raw.upper()
        if 2 <= len(plate) <= MAX_PLATE_LEN and plate not in JUNK_PLATES:
            return plate, None
    if not raw.isascii():
        foreign = _foreign_chars(raw)
        if foreign:
            return "", f"plate {raw.strip()!r} has characters other than A-Z and 0-9 ({foreign!r}); transliterate them"
        marks = _marks(raw)
        if marks:
            return "", (
                f"plate {raw.strip()!r} has accents or other combining marks ({marks}); removing them would "
                f"make another plate, so write the plate in A-Z and 0-9"
            )
    upper = raw.upper()
    if wildcards and ("*" in raw or "?" in raw):
        pattern = _STARS.sub("*", _WILD_JUNK.sub("", upper))
        literal = len(pattern) - pattern.count("*") - pattern.count("?")
        if literal < 2:
            return pattern, f"wildcard plate {raw.strip()!r} needs at least 2 letters or digits besides * and ?"
        if literal > MAX_PLATE_LEN:
            return pattern, f"plate {raw.strip()!r} is longer than {MAX_PLATE_LEN} characters"
        if len(pattern) > MAX_PATTERN_LEN:
            return pattern, f"wildcard plate {raw.strip()!r} is longer than {MAX_PATTERN_LEN} characters"
        return pattern, None
    plate = _NON_ALNUM.sub("", upper)
    if not plate:
        if "*" in raw or "?" in raw:
            return plate, f"plate {raw.strip()!r}: wildcards (* ?) are accepted in csv and plain files only"
        return plate, "plate is empty"
    if plate in JUNK_PLATES:
        return plate, f"plate {raw.strip()!r} is a placeholder, not a plate"
    if "*" in raw or "?" in raw:
        return plate, f"plate {raw.strip()!r}: wildcards (* ?) are accepted in csv and plain files only"
    if len(plate) < 2:
        return plate, f"plate {raw.strip()!r} is shorter than 2 characters"
    if len(plate) > MAX_PLATE_LEN:
        return plate, f"plate {raw.strip()!r} is longer than {MAX_PLATE_LEN} characters"
    return plate, None


# --- dates ------------------------------------------------------------------------------------


def parse_expiry(value: str, tz: ZoneInfo) -> datetime:
    """An ``expires`` value (see the module docstring for the accepted forms); ValueError if bad."""
    from .formats import date_problem, parse_date

    parsed = parse_date(value.strip(), tz, True, False)
    if parsed is None:
        raise ValueError(f"expires {value.strip()!r} is not a date (YYYY-MM-DD, MM/DD/YYYY, YYYYMMDD or ISO date-time)")
    problem = date_problem("expires", value.strip(), parsed, datetime.now(UTC))
    if problem:
        raise ValueError(problem)
    return parsed


# --- decoding ---------------------------------------------------------------------------------

_MAGIC = (
    (b"PK\x03\x04", "a ZIP archive (an Excel .xlsx workbook?); export the sheet as 'CSV UTF-8'"),
    (b"\xd0\xcf\x11\xe0", "an old Excel .xls / Office document; export the sheet as 'CSV UTF-8'"),
    (b"%PDF", "a PDF document"),
    (b"\x1f\x8b", "a gzip archive; unpack it first"),
    (b"7z\xbc\xaf", "a 7-Zip archive; unpack it first"),
)
_CONTROL = re.compile(r"[\x01-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _fail(message: str) -> ImportFailed:
    return ImportFailed([RowError(0, message)])


def decode_upload(data: bytes) -> str:
    """UTF-8 (with or without BOM); anything else is refused rather than guessed.

    Raises :class:`ImportFailed` with one clear message (and a best-effort hint of
    what the file is instead). Line ends are not changed here.
    """
    for magic, what in _MAGIC:
        if data.startswith(magic):
            raise _fail(f"the file is not UTF-8 text: it looks like {what}")
    if data.startswith((b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")):
        raise _fail("the file is not UTF-8 text: it is UTF-32; save it as UTF-8")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise _fail("the file is not UTF-8 text: it is UTF-16 (Excel 'Unicode text'?); save it as UTF-8")
    if b"\x00" in data:
        head = data[:4096]
        even, odd = head[0::2].count(0), head[1::2].count(0)
        if len(head) >= 4 and max(even, odd) > len(head) // 4 and min(even, odd) < max(even, odd) // 4:
            raise _fail("the file is not UTF-8 text: it looks like UTF-16 without a byte order mark; save it as UTF-8")
        raise _fail("the file contains NUL bytes; it is not a text file (binary data is refused)")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        bad = data[exc.start : exc.start + 1]
        hint = ""
        try:
            snippet = data[max(0, exc.start - 10) : exc.start + 10].decode("cp1252")
            hint = (
                f"; it looks like Latin-1/Windows-1252 (byte 0x{bad.hex().upper()} would be "
                f"{bad.decode('cp1252')!r}, in {snippet.strip()!r})"
            )
        except UnicodeDecodeError:
            pass
        raise _fail(
            f"the file is not UTF-8 text (byte 0x{bad.hex().upper()} at offset {exc.start}, line {line})"
            f"{hint}; save it as UTF-8"
        ) from exc


def _line_of(text: str, pos: int) -> int:
    return text.count("\n", 0, pos) + 1


def prepare_text(text: str, result: ParseResult) -> str:
    """Normalise line ends to LF and blank out (with a row error) lines that are too long or
    hold control characters, so that line numbers stay right for every parser."""
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = text.rstrip("\x1a")
    bad: dict[int, str] = {}
    if _CONTROL.search(text):
        hits = _CONTROL.findall(text)
        if len(hits) > MAX_CONTROL_CHARS:
            raise _fail(f"the file contains {len(hits)} control characters; it does not look like a text hotlist")
        for match in _CONTROL.finditer(text):
            bad.setdefault(
                _line_of(text, match.start()), f"line contains the control character U+{ord(match.group()):04X}"
            )
    lines = text.split("\n")
    if len(text) > MAX_LINE_CHARS:
        for number, line in enumerate(lines, start=1):
            if len(line) > MAX_LINE_CHARS:
                bad[number] = f"line is longer than {MAX_LINE_CHARS} characters ({len(line)})"
    if bad:
        for number in sorted(bad):
            result.errors.append(RowError(number, bad[number]))
            lines[number - 1] = ""
        text = "\n".join(lines)
    return text


# --- entry points -----------------------------------------------------------------------------


def detect_format(text: str, *, mapping: dict[str, str] | None = None) -> str:
    """The format of a decoded hotlist file (see :func:`hotlist.formats.detect_format`)."""
    from .formats import detect_format as detect

    return detect(text, mapping=mapping)


def parse_bytes(
    data: bytes, *, fmt: str | None = None, mapping: dict[str, str] | None = None, tz: ZoneInfo | None = None
) -> ParseResult:
    """Parse an uploaded hotlist file; ``fmt`` overrides detection, ``mapping`` maps CSV columns to fields.

    Returns every row error in ``errors``; raises :class:`ImportFailed` only for whole-file problems.
    """
    from .formats import parse_text

    return parse_text(decode_upload(data), fmt=fmt, mapping=mapping, tz=tz)


def parse_csv_bytes(data: bytes, *, tz: ZoneInfo | None = None, mapping: dict[str, str] | None = None) -> ParseResult:
    """CSV with a header row (kept for existing callers): ``parse_bytes(data, fmt="csv")``."""
    return parse_bytes(data, fmt="csv", mapping=mapping, tz=tz)


def parse_csv(
    stream: IO[str] | Iterable[str], *, tz: ZoneInfo | None = None, mapping: dict[str, str] | None = None
) -> ParseResult:
    """CSV with a header row from text (a file opened with ``newline=""``, or lines)."""
    from .formats import parse_text

    text = stream.read() if isinstance(stream, io.IOBase) or hasattr(stream, "read") else "".join(stream)
    return parse_text(text, fmt="csv", mapping=mapping, tz=tz)

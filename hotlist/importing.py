"""Parsing hotlist files into validated rows. Plain Python: no database access.

Imports are all-or-nothing: ``parse_csv`` returns every row error found, and
the caller writes nothing unless the list of errors is empty.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import IO, Iterable
from zoneinfo import ZoneInfo

_NON_ALNUM = re.compile(r"[^A-Z0-9]")
JUNK_PLATES = frozenset({"UNK", "UNKNOWN", "NONE", "NA", "NOPLATE", "0", "00", "000"})
MAX_PLATE_LEN = 10
MAX_LINE_CHARS = 4096
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


@dataclass
class ParseResult:
    rows: list[EntryRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    duplicates: int = 0


class ImportFailed(Exception):
    def __init__(self, errors: list[RowError]):
        self.errors = errors
        super().__init__(f"{len(errors)} error(s); nothing was imported")


def check_plate(raw: str) -> tuple[str, str | None]:
    plate = normalize_plate(raw)
    if not plate:
        return plate, "plate is empty"
    if plate in JUNK_PLATES:
        return plate, f"plate {raw.strip()!r} is a placeholder, not a plate"
    if len(plate) < 2:
        return plate, f"plate {raw.strip()!r} is shorter than 2 characters"
    if len(plate) > MAX_PLATE_LEN:
        return plate, f"plate {raw.strip()!r} is longer than {MAX_PLATE_LEN} characters"
    return plate, None


def parse_expiry(value: str, tz: ZoneInfo) -> datetime:
    """ISO date (valid through that day, local time) or ISO date-time (naive = local time)."""
    value = value.strip()
    try:
        if len(value) == 10:
            day = datetime.strptime(value, "%Y-%m-%d").date()
            return datetime.combine(day + timedelta(days=1), time.min, tzinfo=tz)
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise ValueError(f"expires {value!r} is not an ISO date (YYYY-MM-DD) or date-time") from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=tz)


def _clean_text(value: str | None, limit: int, name: str, line: int, errors: list[RowError]) -> str:
    value = (value or "").strip()
    if value.startswith("="):
        errors.append(RowError(line, f"{name} looks like a spreadsheet formula ({value[:20]!r})"))
    if len(value) > limit:
        errors.append(RowError(line, f"{name} is longer than {limit} characters"))
    return value


def decode_upload(data: bytes) -> str:
    """UTF-8 (with or without BOM); anything else is refused rather than guessed."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportFailed([RowError(0, f"the file is not UTF-8 text (byte {exc.start}); save it as UTF-8")]) from exc
    if "\x00" in text:
        raise ImportFailed([RowError(0, "the file contains NUL bytes; it is not a text file")])
    return text


def parse_csv(stream: IO[str] | Iterable[str], *, tz: ZoneInfo | None = None) -> ParseResult:
    """Parse a CSV hotlist with a header row; ``plate`` is required."""
    tz = tz or ZoneInfo("UTC")
    result = ParseResult()
    lines = _bounded_lines(stream, result)
    reader = csv.reader(lines)
    try:
        header = next(reader)
    except StopIteration:
        result.errors.append(RowError(1, "the file is empty"))
        return result
    except csv.Error as exc:
        result.errors.append(RowError(1, f"unreadable header: {exc}"))
        return result
    columns = [h.strip().lower().replace(" ", "_") for h in header]
    if "plate" not in columns:
        result.errors.append(RowError(1, f"the header must name a 'plate' column (found: {', '.join(columns) or 'nothing'})"))
        return result
    unknown = [c for c in columns if c not in KNOWN_COLUMNS]
    if unknown:
        result.errors.append(RowError(1, f"unknown column(s) {', '.join(unknown)}; known: {', '.join(KNOWN_COLUMNS)}"))
        return result
    seen: dict[tuple[str, str], int] = {}
    while True:
        try:
            values = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            result.errors.append(RowError(reader.line_num, f"malformed CSV: {exc}"))
            break
        line = reader.line_num
        if not any(v.strip() for v in values):
            continue
        if len(values) != len(columns):
            result.errors.append(RowError(line, f"expected {len(columns)} fields, found {len(values)}"))
            continue
        record = dict(zip(columns, values))
        row_errors: list[RowError] = []
        plate, problem = check_plate(record["plate"])
        if problem:
            row_errors.append(RowError(line, problem))
        state = _clean_text(record.get("state"), 8, "state", line, row_errors).upper()
        reason = _clean_text(record.get("reason"), 100, "reason", line, row_errors)
        case_number = _clean_text(record.get("case_number"), 50, "case_number", line, row_errors)
        notes = _clean_text(record.get("notes"), 2000, "notes", line, row_errors)
        expires_at = None
        if (record.get("expires") or "").strip():
            try:
                expires_at = parse_expiry(record["expires"], tz)
            except ValueError as exc:
                row_errors.append(RowError(line, str(exc)))
        if row_errors:
            result.errors.extend(row_errors)
            continue
        key = (plate, state)
        if key in seen:
            result.duplicates += 1
            continue
        seen[key] = line
        result.rows.append(EntryRow(line=line, plate=plate, plate_raw=record["plate"].strip()[:32], state=state,
                                    reason=reason, case_number=case_number, notes=notes, expires_at=expires_at))
    return result


def _bounded_lines(stream: IO[str] | Iterable[str], result: ParseResult) -> Iterable[str]:
    for number, line in enumerate(stream, start=1):
        if len(line) > MAX_LINE_CHARS:
            result.errors.append(RowError(number, f"line is longer than {MAX_LINE_CHARS} characters"))
            yield "\n"
            continue
        yield line


def parse_csv_bytes(data: bytes, *, tz: ZoneInfo | None = None) -> ParseResult:
    return parse_csv(io.StringIO(decode_upload(data), newline=""), tz=tz)


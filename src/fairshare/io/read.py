"""Read a CSV, XLSX or Parquet file into a table of strings, keeping the user's row numbers.

Every column is read as text (surrounding whitespace stripped, an empty cell is
null), so validation sees exactly what the user wrote.

Row numbers are the ones the user sees:

* CSV (``.csv``, ``.txt``) and XLSX (``.xlsx``, first sheet): the spreadsheet row.
  The header is the first non-blank row (row 1 unless blank rows precede it) and
  the first data row follows it (row 2 in the usual case). A record whose quoted
  cell spans several lines counts as one row, as a spreadsheet shows it.
* Parquet: the record number, the first record is row 1 (there is no header row).

Fully blank rows are kept out of :attr:`RawTable.frame` and listed in
:attr:`RawTable.blank_rows`; the remaining rows keep their numbers.
CSV is UTF-8 (a byte-order mark is allowed); the delimiter is a comma unless the
header row has no comma and has tabs or semicolons.
"""

from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import fastexcel
import numpy as np
import polars as pl

from fairshare.errors import InputError, Problem

__all__ = ["CSV_SUFFIXES", "PARQUET_SUFFIXES", "XLSX_SUFFIXES", "RawTable", "read_raw"]

CSV_SUFFIXES = (".csv", ".txt")
XLSX_SUFFIXES = (".xlsx",)
PARQUET_SUFFIXES = (".parquet",)
_ACCEPTED = "CSV (.csv, .txt), Excel workbook (.xlsx) or Parquet (.parquet)"


@dataclass(frozen=True)
class RawTable:
    """A file's data rows as strings (null = blank cell), with user row numbers."""

    frame: pl.DataFrame
    path: str
    #: the row number the user sees for each row of ``frame``
    rows: np.ndarray
    sha256: str
    #: row numbers of fully blank rows that were skipped
    blank_rows: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))

    @property
    def n(self) -> int:
        return self.frame.height

    @property
    def columns(self) -> list[str]:
        return self.frame.columns


def _fail(code: str, message: str, path: str, hint: str | None = None, **where: Any) -> InputError:
    return InputError(Problem(code, message, file=path, hint=hint, **where))


def read_raw(path: str | Path) -> RawTable:
    """Read ``path`` (CSV, XLSX or Parquet) as strings. Raises :class:`InputError`."""
    p = Path(path)
    name = str(path)
    if not p.exists():
        raise _fail("file_not_found", f"no such file: {name}", name, hint="check the path and the current directory")
    if not p.is_file():
        raise _fail("file_not_found", f"{name} is a directory, not a file", name, hint="give the path of a file")
    suffix = p.suffix.lower()
    if suffix not in CSV_SUFFIXES + XLSX_SUFFIXES + PARQUET_SUFFIXES:
        raise _fail(
            "file_format",
            f"cannot read {p.name!r}: unknown file type {p.suffix or '(no extension)'!r}",
            name,
            hint=f"save the table as {_ACCEPTED}",
        )
    data = p.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if not data.strip():
        raise _fail(
            "empty_file", f"{name} is empty", name, hint="the file needs a header row and at least one data row"
        )
    if suffix in PARQUET_SUFFIXES:
        frame, first_row = _clean(_read_parquet(data, name)), 1
    else:
        grid, leading = _read_csv(data, name) if suffix in CSV_SUFFIXES else _read_xlsx(data, name)
        frame, first_row = _split_header(_clean(grid), leading, name)
    return _finish(frame, name, digest, first_row)


# ------------------------------------------------------------------ readers


def _read_csv(data: bytes, path: str) -> tuple[pl.DataFrame, int]:
    """All records as strings, without a header, and how many leading blank rows were dropped."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    start, leading = 0, 0
    while True:  # leading blank lines (each one a blank spreadsheet row)
        end = data.find(b"\n", start)
        line = data[start:] if end < 0 else data[start:end]
        if line.strip(b' \t\r,;"') or end < 0:
            break
        start, leading = end + 1, leading + 1
    head = data[start : data.find(b"\n", start)] if data.find(b"\n", start) >= 0 else data[start:]
    sep = "," if b"," in head else "\t" if b"\t" in head else ";" if b";" in head else ","
    try:
        grid = pl.read_csv(
            io.BytesIO(data[start:]), has_header=False, infer_schema=False, separator=sep, raise_if_empty=False
        )
    except pl.exceptions.PolarsError as exc:
        raise _csv_error(data[start:], sep, leading, path, exc) from None
    return grid, leading


def _csv_error(data: bytes, sep: str, leading: int, path: str, exc: Exception) -> InputError:
    """Explain a CSV the fast reader rejected, locating the row where possible."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1 + leading
        return _fail(
            "file_format",
            f"{path} is not UTF-8 text (a byte that is not UTF-8 on line {line})",
            path,
            hint="save the file as 'CSV UTF-8' (Excel: File > Save As > CSV UTF-8)",
        )
    try:
        records = csv.reader(io.StringIO(text, newline=""), delimiter=sep, strict=True)
        width = None
        for number, record in enumerate(records, start=1 + leading):
            if width is None:
                width = len(record)
            elif len(record) > width:
                return _fail(
                    "file_format",
                    f"row {number} has {len(record)} cells but the header has {width}",
                    path,
                    hint="remove the extra cells or add a header for them; quote cells that contain "
                    f"the delimiter {sep!r}",
                    row=number,
                )
    except csv.Error as err:
        return _fail(
            "file_format",
            f"{path} is not valid CSV: {err}",
            path,
            hint='check the quoting: a quote inside a quoted cell is written twice ("")',
        )
    return _fail(
        "file_format",
        f"{path} could not be read as CSV: {str(exc).splitlines()[0]}",
        path,
        hint=f"save the table as {_ACCEPTED}",
    )


def _read_xlsx(data: bytes, path: str) -> tuple[pl.DataFrame, int]:
    try:
        grid = pl.read_excel(
            io.BytesIO(data),
            engine="calamine",
            sheet_id=1,
            has_header=False,
            infer_schema_length=0,
            drop_empty_rows=False,
            drop_empty_cols=False,
            raise_if_empty=False,
            read_options={"header_row": None, "skip_rows": 0},
        )
    except (fastexcel.FastExcelError, pl.exceptions.PolarsError, ValueError) as exc:
        raise _fail(
            "file_format",
            f"{path} could not be read as an Excel workbook: {str(exc).splitlines()[0]}",
            path,
            hint=f"save the table as {_ACCEPTED}",
        ) from None
    return grid.select(pl.all().cast(pl.String)), 0


def _read_parquet(data: bytes, path: str) -> pl.DataFrame:
    try:
        frame = pl.read_parquet(io.BytesIO(data))
    except (pl.exceptions.PolarsError, OSError, ValueError) as exc:
        raise _fail(
            "file_format",
            f"{path} could not be read as Parquet: {str(exc).splitlines()[0]}",
            path,
            hint=f"save the table as {_ACCEPTED}",
        ) from None
    names = [c.strip() for c in frame.columns]
    _check_names(names, path)
    nested = [c for c, t in frame.schema.items() if t.is_nested()]
    if nested:
        raise _fail(
            "file_format",
            f"column {nested[0]!r} holds lists or records, not single values",
            path,
            column=nested[0],
            hint="store one value per cell",
        )
    frame = frame.select(pl.all().cast(pl.String))
    frame.columns = names
    return frame


# -------------------------------------------------------------- header, rows


def _split_header(grid: pl.DataFrame, leading: int, path: str) -> tuple[pl.DataFrame, int]:
    """Take the first non-blank row as the header; return the data rows and the first data row's number.

    ``leading`` counts blank rows the reader already dropped before ``grid``.
    """
    blank = _blank_mask(grid)
    filled = np.flatnonzero(~blank)
    if len(filled) == 0:
        raise _fail(
            "empty_file",
            f"{path} has no header and no data",
            path,
            hint="the file needs a header row and at least one data row",
        )
    top = int(filled[0])
    header = [None if v is None else str(v) for v in grid.row(top)]
    body = grid.slice(top + 1)
    keep: list[int] = []
    for i, name in enumerate(header):
        if name is None:
            if body.get_column(body.columns[i]).null_count() < body.height:
                raise _fail(
                    "file_format",
                    f"column {i + 1} has values but no header",
                    path,
                    row=leading + top + 1,
                    hint="give the column a name in the header row, or delete it",
                )
            continue  # a nameless, empty column (e.g. trailing delimiters) carries nothing
        keep.append(i)
    names = [str(header[i]) for i in keep]
    _check_names(names, path, row=leading + top + 1)
    body = body.select([pl.col(body.columns[i]).alias(n) for i, n in zip(keep, names, strict=True)])
    return body, leading + top + 2


def _check_names(names: list[str], path: str, row: int | None = None) -> None:
    seen: set[str] = set()
    for n in names:
        if n in seen:
            raise _fail(
                "file_format",
                f"the header names column {n!r} more than once",
                path,
                row=row,
                column=n,
                hint="give every column a distinct name",
            )
        seen.add(n)


def _clean(frame: pl.DataFrame) -> pl.DataFrame:
    """Strip whitespace; an empty string becomes null."""
    if not frame.columns:
        return frame
    return (
        frame.lazy()
        .select(pl.all().str.strip_chars())
        .select(pl.when(pl.all().str.len_bytes() == 0).then(None).otherwise(pl.all()).name.keep())
        .collect()
    )


def _blank_mask(frame: pl.DataFrame) -> np.ndarray:
    if not frame.columns or frame.height == 0:
        return np.ones(frame.height, dtype=bool)
    return frame.select(pl.all_horizontal(pl.all().is_null())).to_series().to_numpy()


def _finish(frame: pl.DataFrame, path: str, digest: str, first_row: int) -> RawTable:
    rows = np.arange(first_row, first_row + frame.height, dtype=np.int64)
    blank = _blank_mask(frame)
    if blank.all():
        raise _fail(
            "empty_file",
            f"{path} has a header but no data rows",
            path,
            hint="add at least one data row under the header",
        )
    if blank.any():
        frame = frame.filter(pl.Series(~blank))
    return RawTable(frame=frame, path=path, rows=rows[~blank], sha256=digest, blank_rows=rows[blank])

"""read_raw: formats, user row numbers, and every file-level error."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

import numpy as np
import openpyxl
import polars as pl
import pytest
from io_helpers import only

from fairshare.errors import InputError
from fairshare.io import RawTable, read_raw

Write = Callable[[str, str], Path]


def test_csv_reads_every_column_as_stripped_text(write: Write) -> None:
    p = write("t.csv", "id, n ,flag\n001, 1.50 , yes\nB,,\n")
    raw = read_raw(p)
    assert isinstance(raw, RawTable)
    assert raw.columns == ["id", "n", "flag"]
    assert raw.frame.schema == {"id": pl.String, "n": pl.String, "flag": pl.String}
    assert raw.frame.rows() == [("001", "1.50", "yes"), ("B", None, None)]
    assert raw.rows.tolist() == [2, 3]
    assert raw.path == str(p)
    assert raw.sha256 == hashlib.sha256(p.read_bytes()).hexdigest()


def test_csv_blank_rows_are_skipped_but_recorded_and_rows_keep_their_numbers(write: Write) -> None:
    p = write("t.csv", "\n\nid,n\n1,2\n\n  \n,\n3,4\n\n")
    raw = read_raw(p)
    assert raw.frame.rows() == [("1", "2"), ("3", "4")]
    assert raw.rows.tolist() == [4, 8]  # header on row 3
    assert raw.blank_rows.tolist() == [5, 6, 7, 9]


def test_csv_quoted_cell_spanning_lines_is_one_row(write: Write) -> None:
    raw = read_raw(write("t.csv", 'id,note\n1,"two\nlines"\n2,"a ""quote"""\n'))
    assert raw.frame.rows() == [("1", "two\nlines"), ("2", 'a "quote"')]
    assert raw.rows.tolist() == [2, 3]


def test_csv_bom_semicolons_and_tabs(tmp_path: Path) -> None:
    p = tmp_path / "bom.csv"
    p.write_bytes(b"\xef\xbb\xbfid,n\r\n1,2\r\n")
    assert read_raw(p).frame.rows() == [("1", "2")]
    p = tmp_path / "semi.csv"
    p.write_bytes(b"id;n\n1;2,5\n")
    assert read_raw(p).frame.rows() == [("1", "2,5")]
    p = tmp_path / "tab.txt"
    p.write_bytes(b"id\tn\n1\t2\n")
    assert read_raw(p).frame.rows() == [("1", "2")]


def test_csv_trailing_nameless_empty_columns_are_dropped(write: Write) -> None:
    raw = read_raw(write("t.csv", "id,n,,\n1,2,,\n"))
    assert raw.columns == ["id", "n"]


def test_xlsx_first_sheet_with_row_numbers(tmp_path: Path) -> None:
    p = tmp_path / "t.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws["A2"], ws["B2"], ws["C2"] = "id", "n", "flag"  # row 1 left blank
    ws.append(["001", 30, True])
    ws.append([None, None, None])
    ws.append(["B", 12.5, " no "])
    wb.create_sheet("ignored").append(["x"])
    wb.save(p)
    raw = read_raw(p)
    assert raw.columns == ["id", "n", "flag"]
    assert raw.frame.rows() == [("001", "30", "true"), ("B", "12.5", "no")]
    assert raw.rows.tolist() == [3, 5]
    assert raw.blank_rows.tolist() == [4]


def test_parquet_rows_start_at_one_and_values_become_text(tmp_path: Path) -> None:
    p = tmp_path / "t.parquet"
    pl.DataFrame(
        {"id": ["a", None, "c"], "n": [1, None, 3], "x": [0.5, None, 2.0], "f": [True, None, False]}
    ).write_parquet(p)
    raw = read_raw(p)
    assert raw.frame.schema == {"id": pl.String, "n": pl.String, "x": pl.String, "f": pl.String}
    assert raw.frame.rows() == [("a", "1", "0.5", "true"), ("c", "3", "2.0", "false")]
    assert raw.rows.tolist() == [1, 3]
    assert raw.blank_rows.tolist() == [2]


def test_file_not_found(tmp_path: Path) -> None:
    with pytest.raises(InputError) as e:
        read_raw(tmp_path / "nope.csv")
    (p,) = only(e.value, "file_not_found")
    assert p.file == str(tmp_path / "nope.csv")
    with pytest.raises(InputError) as e:
        read_raw(tmp_path)
    only(e.value, "file_not_found")


@pytest.mark.parametrize("name", ["t.xls", "t.json", "noext"])
def test_unknown_extension_names_accepted_formats(write: Write, name: str) -> None:
    with pytest.raises(InputError) as e:
        read_raw(write(name, "id\n1\n"))
    (p,) = only(e.value, "file_format")
    assert p.hint is not None and ".csv" in p.hint and ".xlsx" in p.hint and ".parquet" in p.hint


@pytest.mark.parametrize("name", ["t.xlsx", "t.parquet"])
def test_corrupt_file_is_file_format(write: Write, name: str) -> None:
    with pytest.raises(InputError) as e:
        read_raw(write(name, "this is not really that format\n"))
    only(e.value, "file_format")


def test_non_utf8_csv_is_file_format(tmp_path: Path) -> None:
    p = tmp_path / "latin.csv"
    p.write_bytes(b"id,name\n1,Caf\xe9\n")
    with pytest.raises(InputError) as e:
        read_raw(p)
    (prob,) = only(e.value, "file_format")
    assert "UTF-8" in prob.message


def test_row_with_more_cells_than_header_is_located(write: Write) -> None:
    with pytest.raises(InputError) as e:
        read_raw(write("t.csv", "id,n\n1,2\n\n3,4,5\n"))
    (p,) = only(e.value, "file_format")
    assert p.row == 4


def test_duplicate_header_names_the_column(write: Write) -> None:
    with pytest.raises(InputError) as e:
        read_raw(write("t.csv", "id,n, n\n1,2,3\n"))
    (p,) = only(e.value, "file_format")
    assert p.column == "n"
    assert p.row == 1


def test_values_without_header_are_file_format(write: Write) -> None:
    with pytest.raises(InputError) as e:
        read_raw(write("t.csv", "id,,n\n1,x,2\n"))
    (p,) = only(e.value, "file_format")
    assert "column 2" in p.message


@pytest.mark.parametrize("text", ["", "\n\n", " , \n\n"])
def test_totally_empty_file(write: Write, text: str) -> None:
    with pytest.raises(InputError) as e:
        read_raw(write("t.csv", text))
    only(e.value, "empty_file")


@pytest.mark.parametrize("text", ["id,n\n", "id,n", "id,n\n\n,\n"])
def test_header_without_data_rows(write: Write, text: str) -> None:
    with pytest.raises(InputError) as e:
        read_raw(write("t.csv", text))
    (p,) = only(e.value, "empty_file")
    assert "no data rows" in p.message


def test_empty_parquet(tmp_path: Path) -> None:
    p = tmp_path / "t.parquet"
    pl.DataFrame({"id": pl.Series([], dtype=pl.String)}).write_parquet(p)
    with pytest.raises(InputError) as e:
        read_raw(p)
    only(e.value, "empty_file")


def test_rows_is_an_integer_array(write: Write) -> None:
    raw = read_raw(write("t.csv", "id\n1\n2\n"))
    assert raw.rows.dtype == np.int64
    assert raw.n == 2

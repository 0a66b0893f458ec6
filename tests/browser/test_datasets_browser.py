"""The simulator on an uploaded data set, and a bad upload's problems, in the browser."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Page, expect

from fairshare.demo import generate
from fairshare.io import aggregate_students, write_table


def test_upload_good_and_bad_tables(
    page_as: Callable[[str], Page], live_server: str, tmp_path: Path, screenshots: Path
) -> None:
    schools, students = generate(tmp_path / "data")
    good = tmp_path / "our-schools.csv"
    write_table(aggregate_students(students, schools).frame, good)
    page = page_as("state@demo.fairshare.test")
    page.goto(live_server + "/simulator?model=demo-district")
    page.set_input_files("#dataset-file", str(good))
    expect(page.locator("#dataset-status")).to_contain_text("Using our-schools.csv: 40 rows")
    expect(page.locator("#status")).to_contain_text("Updated")
    lines = good.read_text().splitlines()
    header = lines[0].split(",")
    cells = lines[3].split(",")
    cells[header.index("school_type")] = "castle"
    bad = tmp_path / "bad.csv"
    bad.write_text("\n".join([*lines[:3], ",".join(cells), *lines[4:]]) + "\n")
    page.set_input_files("#dataset-file", str(bad))
    expect(page.locator("#dataset-status")).to_contain_text("bad.csv was not used: row 4, column school_type, “castle”")
    page.screenshot(path=str(screenshots / "simulator-upload.png"), full_page=False)

"""The principal budget builder in the browser: the principal trades and submits, the budget officer
returns it with a comment, the principal resubmits, the officer approves, the district overview shows it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Page, expect


def _change(page: Page, role: str, fte: str, note: str | None = None) -> None:
    row = page.locator(f"#positions tr[data-role={role}]")
    row.locator("input.fte-change").fill(fte)
    if note is not None:
        row.locator("input.trade-note").fill(note)


def _shot(page: Page, path: Path) -> None:
    """A full-page screenshot once the letter's frame has rendered (Chromium paints a sandboxed frame
    below the fold only once it is scrolled to)."""
    expect(page.frame_locator("#letter").locator("h1")).to_be_visible()
    page.locator("#letter").scroll_into_view_if_needed()
    page.screenshot(path=str(path), full_page=True)


def test_trade_submit_return_resubmit_approve(page_as: Callable[[str], Page], screenshots: Path) -> None:
    principal = page_as("principal@demo.fairshare.test")
    principal.goto(principal.url.rstrip("/") + "/budgets")
    expect(principal).to_have_url(principal.url.split("/budgets")[0] + "/budgets/S001")
    expect(principal.locator("h1")).to_contain_text("Annie Fisher Elementary School")
    expect(principal.locator("#budget-status")).to_have_text("draft")
    expect(principal.locator("#positions tr[data-role=principal] input")).to_have_count(0)  # locked
    expect(principal.frame_locator("#letter").locator("body")).to_contain_text("Annie Fisher")
    _shot(principal, screenshots / "budget-1-starter.png")

    _change(principal, "teacher", "50")
    principal.click("#save-trades")
    expect(principal.locator("#budget-error")).to_contain_text("overspent by")
    _shot(principal, screenshots / "budget-2-overspend.png")

    before = principal.locator("#discretionary-after").inner_text()
    _change(principal, "assistant_principal", "-1", "share one AP with the feeder school")
    _change(principal, "teacher", "1.4", "smaller grade 3 classes")
    principal.click("#save-trades")
    expect(principal.locator("#net-cost")).to_contain_text("-$")
    assert principal.locator("#discretionary-after").inner_text() != before
    expect(principal.locator("#total")).to_have_text("$4,271,990.55")  # the school total is unchanged
    principal.click("#submit-budget")
    expect(principal.locator("#budget-status")).to_have_text("submitted")
    expect(principal.locator("#save-trades")).to_have_count(0)
    _shot(principal, screenshots / "budget-3-submitted.png")

    officer = page_as("budget@demo.fairshare.test")
    officer.goto(officer.url.rstrip("/") + "/budgets/S001")
    officer.click("#return-budget")
    expect(officer.locator("#budget-error")).to_contain_text("a comment is required")
    officer.fill("#review-text", "Keep the assistant principal; trade counselor time instead.")
    officer.click("#return-budget")
    expect(officer.locator("#budget-status")).to_have_text("returned")
    _shot(officer, screenshots / "budget-4-returned.png")

    principal.reload()
    expect(principal.locator("#review-comment")).to_contain_text("Keep the assistant principal")
    _change(principal, "assistant_principal", "0", "")
    _change(principal, "counselor", "-0.5", "half a counselor to the feeder school")
    principal.click("#submit-budget")  # saves the edited trades, then submits
    expect(principal.locator("#budget-status")).to_have_text("submitted")
    expect(principal.locator("#positions tr[data-role=counselor]")).to_contain_text("-0.5")
    _shot(principal, screenshots / "budget-5-resubmitted.png")

    officer.reload()
    officer.fill("#review-text", "Approved.")
    officer.click("#approve-budget")
    expect(officer.locator("#budget-status")).to_have_text("approved")
    expect(officer.locator("#history li")).to_have_count(6)
    _shot(officer, screenshots / "budget-6-approved.png")
    officer.click("text=School budgets")
    row = officer.locator("#budget-overview tr[data-school=S001]")
    expect(row).to_have_attribute("data-status", "approved")
    expect(officer.locator(".counts")).to_contain_text("approved 1")
    officer.screenshot(path=str(screenshots / "budget-7-overview.png"), full_page=True)

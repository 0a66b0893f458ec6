"""Grant plans in the browser: the district builds and submits its plan, the state requests changes, the
district resubmits, the state approves, the district draws down (one that fits, one over the line's
tolerance, refused with the reason) and both sides see the running balances."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Page, expect

BUDGET = "budget@demo.fairshare.test"
STATE = "state@demo.fairshare.test"


def _open_plan(page: Page, base: str) -> None:
    page.goto(base + "/grants")
    page.click("#plans a:has-text('FY 2027')")
    expect(page.locator("h1")).to_contain_text("FY 2027 (2026-27) grant plan")


def _status(page: Page) -> str:
    return page.locator("#plan-status .status").inner_text()


def test_district_and_state_take_a_grant_plan_from_draft_to_draw_downs(
    page_as: Callable[[str], Page], live_server: str, screenshots: Path
) -> None:
    district = page_as(BUDGET)
    district.goto(live_server + "/grants")
    expect(district.locator("#plans")).to_contain_text("FY 2027 (2026-27)")
    district.screenshot(path=str(screenshots / "grants-0-list.png"), full_page=True)
    _open_plan(district, live_server)
    expect(district.locator("#balances")).to_contain_text("Reading interventionist")
    district.screenshot(path=str(screenshots / "grants-1-draft.png"), full_page=True)

    # the district adds a line and a goal, then submits
    district.click("[data-add=line]")
    row = district.locator("[data-rows=line] .edit-row").last
    row.locator("select[name=school_id]").select_option("S002")
    row.locator("select[name=object_code]").select_option("610")
    row.locator("input[name=role]").fill("Mathematics manipulatives")
    row.locator("input[name=amount]").fill("5,000.00")
    district.click("[data-add=goal]")
    goal = district.locator("[data-rows=goal] .edit-row").last
    goal.locator("input[name=indicator]").fill("Chronic absence (S002)")
    goal.locator("input[name=unit]").fill("percent")
    goal.locator("input[name=baseline]").fill("24")
    goal.locator("input[name=target]").fill("18")
    district.screenshot(path=str(screenshots / "grants-2-editing.png"), full_page=True)
    district.click("#submit-plan")
    expect(district.locator("#grant-ok")).to_have_text("The plan is submitted to the state.")
    assert _status(district) == "Submitted to the state"
    expect(district.locator("#balances")).to_contain_text("Mathematics manipulatives")
    expect(district.locator("#totals")).to_contain_text("$149,800.00")

    # the state asks for changes; a blank comment is refused first
    state = page_as(STATE)
    _open_plan(state, live_server)
    state.click("#request-changes")
    expect(state.locator("#grant-error")).to_contain_text("the comment is empty")
    state.fill("#review textarea[name=comment]", "Goal 3: give last year's chronic absence rate as the baseline.")
    state.click("#request-changes")
    expect(state.locator("#grant-ok")).to_contain_text("Changes requested")
    assert _status(state) == "Changes requested"
    state.screenshot(path=str(screenshots / "grants-3-changes-requested.png"), full_page=True)

    # the district sees the comment, corrects the goal and resubmits
    district.reload()
    expect(district.locator("#review-comment")).to_contain_text("Goal 3")
    district.locator("[data-rows=goal] .edit-row").last.locator("input[name=baseline]").fill("23.5")
    district.click("#submit-plan")
    expect(district.locator("#grant-ok")).to_have_text("The plan is submitted to the state.")

    # the state approves
    state.reload()
    expect(state.locator("#goals")).to_contain_text("23.5 percent")
    state.click("#approve")
    expect(state.locator("#grant-ok")).to_contain_text("approved")
    assert _status(state) == "Approved"

    # the district draws down: one that fits, one over the supplies line's 110 % tolerance
    district.reload()
    assert _status(district) == "Approved"
    option = district.locator("#drawdown option", has_text="Levelled readers")
    district.select_option("#drawdown select[name=line]", option.get_attribute("value"))
    district.fill("#drawdown input[name=amount]", "8,000.00")
    district.fill("#drawdown textarea[name=backup]", "Invoice 4411, Readers Ltd., 2026-10-02")
    district.click("#drawdown button[type=submit]")
    expect(district.locator("#grant-ok")).to_contain_text("Drew $8,000.00 on line")
    expect(district.locator("#grant-ok")).to_contain_text("$800.00 left on the line")
    supplies = district.locator("#balances tr", has_text="Levelled readers")
    expect(supplies.locator("td.available")).to_have_text("$800.00")
    district.screenshot(path=str(screenshots / "grants-4-drawn.png"), full_page=True)

    district.select_option("#drawdown select[name=line]", option.get_attribute("value"))
    district.fill("#drawdown input[name=amount]", "900.00")
    district.fill("#drawdown textarea[name=backup]", "Invoice 4502, Readers Ltd.")
    district.click("#drawdown button[type=submit]")
    error = district.locator("#grant-error")
    expect(error).to_contain_text("$900.00 does not fit line")
    expect(error).to_contain_text("its ceiling is $8,800.00 (110% of $8,000.00), $8,000.00 is drawn, $800.00 is left")
    district.screenshot(path=str(screenshots / "grants-5-refused.png"), full_page=True)

    # the state sees the same balances and the draw-down's backup
    state.reload()
    expect(state.locator("#balances tr", has_text="Levelled readers").locator("td.available")).to_have_text("$800.00")
    expect(state.locator("#drawdowns")).to_contain_text("Invoice 4411")
    expect(state.locator("#totals")).to_contain_text("$142,000.00")
    state.screenshot(path=str(screenshots / "grants-6-state-balances.png"), full_page=True)


def test_a_principal_is_told_grants_are_not_for_them(page_as: Callable[[str], Page], live_server: str) -> None:
    page = page_as("principal@demo.fairshare.test")
    response = page.goto(live_server + "/grants")
    assert response is not None and response.status == 403
    expect(page.locator("main")).to_contain_text("a principal may not see grant plans")

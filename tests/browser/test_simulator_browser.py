"""The scenario simulator in the browser: move a slider, see the results follow, save, share, compare."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Page, expect

BUDGET = "budget@demo.fairshare.test"
PRINCIPAL = "principal@demo.fairshare.test"
EL = '.param[data-id="weights.english_learner"]'


def _row_text(page: Page, table: str, label: str) -> str:
    return page.locator(f"#{table} tbody tr", has_text=label).first.inner_text()


def test_move_a_slider_save_share_and_compare(
    page_as: Callable[[str], Page], screenshots: Path, live_server: str
) -> None:
    page = page_as(BUDGET)
    page.goto(live_server + "/simulator")
    expect(page.locator("h1")).to_have_text("Scenario simulator")
    expect(page.locator("#status")).to_contain_text("0 parameters moved")
    expect(page.locator("#entities tbody tr")).to_have_count(40)
    expect(page.locator("#chart-change svg rect")).not_to_have_count(0)
    before = _row_text(page, "components", "English learners")
    page.screenshot(path=str(screenshots / "simulator-demo.png"), full_page=True)

    # move the English learner weight: the number box follows, the results update
    page.locator(f"{EL} input[type=range]").fill("0.5")
    expect(page.locator(f"{EL} input[type=number]")).to_have_value("0.5")
    expect(page.locator("#status")).to_contain_text("1 parameter moved")
    expect(page.locator(EL)).to_have_class("param moved")
    after = _row_text(page, "components", "English learners")
    assert after != before and "+$" in after
    page.screenshot(path=str(screenshots / "simulator-demo-moved.png"), full_page=True)

    # a value outside the range is refused with the parameter named, then put right
    page.locator(f"{EL} input[type=number]").fill("5")
    expect(page.locator("#problems")).to_contain_text("weights.english_learner = 5 is outside its range 0 to 1")
    page.screenshot(path=str(screenshots / "simulator-refused.png"))
    page.locator(f"{EL} input[type=number]").fill("0.5")
    expect(page.locator("#problems")).to_be_hidden()

    # save and share
    page.fill("#scenario-name", "EL weight doubled")
    page.click("#save button[type=submit]")
    link = page.locator("#share-link")
    expect(link).to_be_visible()
    href = link.get_attribute("href")
    assert href is not None and href.startswith("/simulator/s/")

    other = page_as(PRINCIPAL)
    other.goto(live_server + href)
    expect(other.locator("#shared-h")).to_contain_text("EL weight doubled")
    expect(other.locator(f"{EL} input[type=number]")).to_have_value("0.5")
    expect(other.locator("#status")).to_contain_text("1 parameter moved")
    assert _row_text(other, "components", "English learners") == after
    other.screenshot(path=str(screenshots / "simulator-shared-principal.png"), full_page=True)

    # a second scenario, then the two side by side
    page.click("#reset")
    expect(page.locator("#status")).to_contain_text("0 parameters moved")
    page.fill("#scenario-name", "As adopted")
    page.click("#save button[type=submit]")
    expect(page.locator("#mine li")).to_have_count(2)
    for box in page.locator("#mine input[type=checkbox]").all():
        box.check()
    page.click("#compare button[type=submit]")
    expect(page.locator("h1")).to_have_text("Compare scenarios")
    expect(page.locator("main")).to_contain_text("English learner weight")
    page.screenshot(path=str(screenshots / "simulator-compare.png"), full_page=True)

    # rename one of them, delete the other
    page.goto(live_server + "/simulator")
    item = page.locator("#mine li", has_text="As adopted")
    page.once("dialog", lambda d: d.accept("Values in force"))
    item.get_by_role("button", name="Rename “As adopted”").click()
    expect(page.locator("#mine-status")).to_have_text("Renamed to “Values in force”.")
    expect(page.locator("#mine li", has_text="Values in force")).to_have_count(1)
    page.once("dialog", lambda d: d.accept())
    doomed = page.locator("#mine li", has_text="EL weight doubled")
    doomed.get_by_role("button", name="Delete “EL weight doubled”").click()
    expect(page.locator("#mine-status")).to_have_text("Deleted “EL weight doubled”.")
    expect(page.locator("#mine li")).to_have_count(1)
    page.locator(".sim-mine").screenshot(path=str(screenshots / "simulator-mine.png"))
    other.goto(live_server + href)
    expect(other.locator("body")).to_contain_text("no saved scenario")


def test_the_state_model_of_hundreds_of_towns(
    page_as: Callable[[str], Page], screenshots: Path, live_server: str
) -> None:
    page = page_as("state@demo.fairshare.test")
    page.goto(live_server + "/simulator?model=synthetic-state")
    expect(page.locator("#status")).to_contain_text("Updated: 320 towns")
    page.locator('.param[data-id="foundation"] input[type=number]').fill("13000")
    expect(page.locator("#status")).to_contain_text("1 parameter moved")
    page.locator("#entities th button", has_text="Change %").click()
    expect(page.locator("#entities th[aria-sort]")).to_have_count(1)
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(screenshots / "simulator-state.png"), full_page=True)

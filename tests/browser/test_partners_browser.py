"""Restricted fund and partner selection in the browser: the principal picks vetted partners and submits,
the site council and then the superintendent approve, and the contracts by partner show the plan."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Page, expect


def _add(page: Page, partner: str, amount: str) -> None:
    page.click("#add-partner")
    row = page.locator("#selections tbody tr.selection").last
    row.locator("select.partner").select_option(partner)
    row.locator("input.amount").fill(amount)


def test_principal_council_superintendent_and_contracts(page_as: Callable[[str], Page], screenshots: Path) -> None:
    principal = page_as("principal@demo.fairshare.test")
    base = principal.url.rstrip("/")
    principal.goto(base + "/partners")
    expect(principal).to_have_url(base + "/partners/S001")
    expect(principal.locator("#allocation")).to_have_text("$121,044.11")
    expect(principal.locator("#plan-status")).to_have_text("draft")
    principal.screenshot(path=str(screenshots / "partners-1-empty.png"), full_page=True)

    _add(principal, "P01", "200000")
    principal.click("#save-selections")
    expect(principal.locator("#plan-error")).to_contain_text("more than its restricted amount")
    principal.screenshot(path=str(screenshots / "partners-2-over-budget.png"), full_page=True)

    principal.locator("#selections tbody tr.selection input.amount").first.fill("50,000")
    _add(principal, "P04", "25000.50")
    principal.click("#save-selections")
    expect(principal.locator("#selected")).to_have_text("$75,000.50")
    expect(principal.locator("#remaining")).to_have_text("$46,043.61")
    principal.click("#submit-plan")
    expect(principal.locator("#plan-status")).to_have_text("submitted")
    principal.screenshot(path=str(screenshots / "partners-3-submitted.png"), full_page=True)

    council = page_as("council@demo.fairshare.test")
    council.goto(base + "/partners")
    expect(council).to_have_url(base + "/partners/S001")
    council.click("#approve-plan")
    expect(council.locator("#plan-status")).to_have_text("council approved")
    expect(council.locator("#approve-plan")).to_have_count(0)
    council.screenshot(path=str(screenshots / "partners-4-council.png"), full_page=True)

    superintendent = page_as("superintendent@demo.fairshare.test")
    superintendent.goto(base + "/partners")
    row = superintendent.locator("#plan-overview tr[data-school=S001]")
    expect(row).to_have_attribute("data-status", "council_approved")
    superintendent.screenshot(path=str(screenshots / "partners-5-overview.png"), full_page=True)
    row.locator("a").click()
    superintendent.fill("#review-text", "Approved for FY 2026.")
    superintendent.click("#approve-plan")
    expect(superintendent.locator("#plan-status")).to_have_text("approved")
    expect(superintendent.locator("#approvals li.done")).to_have_count(3)
    superintendent.screenshot(path=str(screenshots / "partners-6-approved.png"), full_page=True)

    partner = page_as("partner@demo.fairshare.test")
    partner.goto(base + "/partners")
    expect(partner).to_have_url(base + "/partners/contracts")
    expect(partner.locator("section.partner[data-partner=P01]")).to_contain_text("$50,000.00")
    expect(partner.locator("section.partner[data-partner=P04]")).to_contain_text("Annie Fisher Elementary School")
    expect(partner.locator("#contracts-total")).to_have_text("$75,000.50")
    partner.screenshot(path=str(screenshots / "partners-7-contracts.png"), full_page=True)

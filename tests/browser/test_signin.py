"""Sign in and out in the browser."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Page, expect


def test_sign_in_shows_the_principals_own_school_and_signs_out(
    page_as: Callable[[str], Page], screenshots: Path
) -> None:
    page = page_as("principal@demo.fairshare.test")
    expect(page.locator("main")).to_contain_text("S001")
    expect(page.locator("main")).not_to_contain_text("S002")
    page.screenshot(path=str(screenshots / "home-principal.png"), full_page=True)
    page.click("#sign-out")
    expect(page.locator("h1")).to_have_text("Sign in")


def test_wrong_password_is_said_in_the_form(browser: object, live_server: str) -> None:
    page = browser.new_page()  # type: ignore[attr-defined]
    page.goto(live_server + "/")
    page.fill("input[name=email]", "principal@demo.fairshare.test")
    page.fill("input[name=password]", "wrong")
    page.click("button[type=submit]")
    expect(page.locator(".error")).to_have_text("the email or the password is wrong")
    page.close()

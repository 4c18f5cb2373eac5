"""The example MFE in headless Chromium, as its users drive it: log in, create a payment, pay in
Checkout (the simulator's checkout.js), and see the status change live; a failed payment; a
refused login; the TOTP step; log out. Accessible names are the ones users and docs rely on."""

from __future__ import annotations

import re

from playwright.async_api import Page, expect

from tests.auth.mfa_support import code_at, current_step
from tests.browser.conftest import SEED_PASSWORD
from tests.e2e.conftest import Client
from tests.e2e.test_mfa import PASSWORD as MFA_PASSWORD
from tests.e2e.test_mfa import enrolled_account

CUSTOMER = "customer@example.com"


async def log_in(page: Page, email: str = CUSTOMER, password: str = SEED_PASSWORD) -> None:
    await page.get_by_role("textbox", name="Email").fill(email)
    await page.get_by_role("textbox", name="Password").fill(password)
    await page.get_by_role("button", name="Log in").click()


async def create_payment(page: Page, amount: str) -> None:
    await page.get_by_role("textbox", name="Amount").fill(amount)
    await page.get_by_role("button", name="Create payment").click()
    await expect(page.get_by_test_id("payment-status")).to_have_text("PENDING")


async def test_pay_now_shows_completed_live(page: Page) -> None:
    await log_in(page)
    await expect(page.get_by_role("button", name="Log out")).to_be_visible()
    await create_payment(page, "499.00")

    await page.get_by_role("button", name="Pay", exact=True).click()
    checkout = page.get_by_role("dialog", name="Razorpay Checkout")
    await expect(checkout).to_be_visible()
    await expect(checkout.get_by_test_id("rzp-amount")).to_have_text("INR 499.00")
    await checkout.get_by_role("button", name="Pay now").click()
    await expect(checkout).to_be_hidden()

    # Only paymentUpdated writes COMPLETED into this element (the mutations' answers do not).
    await expect(page.get_by_test_id("payment-status")).to_have_text("COMPLETED")
    await expect(page.locator("#payment-message")).to_have_text(re.compile("Payment verified"))
    await expect(page.get_by_role("button", name="Pay", exact=True)).to_be_disabled()


async def test_a_failed_payment_shows_failed_live_and_can_be_paid_again(page: Page) -> None:
    await log_in(page)
    await create_payment(page, "150.50")
    await page.get_by_role("button", name="Pay", exact=True).click()
    checkout = page.get_by_role("dialog", name="Razorpay Checkout")
    await checkout.get_by_role("button", name="Fail payment").click()

    # The payment.failed webhook moves the payment; the page hears it from paymentUpdated.
    await expect(page.get_by_test_id("payment-status")).to_have_text("FAILED")
    await expect(page.locator("#payment-message")).to_have_text(re.compile("Payment failed"))
    await expect(checkout.get_by_role("alert")).to_have_text(re.compile("Payment failed"))

    # Razorpay's Checkout stays open for another try; closing it calls modal.ondismiss.
    await checkout.get_by_role("button", name="Close").click()
    await expect(checkout).to_be_hidden()
    await expect(page.locator("#payment-message")).to_have_text("Checkout closed.")

    # The same order takes a second attempt, which completes it.
    await page.get_by_role("button", name="Pay", exact=True).click()
    await checkout.get_by_role("button", name="Pay now").click()
    await expect(page.get_by_test_id("payment-status")).to_have_text("COMPLETED")


async def test_a_wrong_password_is_refused(page: Page) -> None:
    await log_in(page, password="not-the-password-1")
    await expect(page.get_by_role("alert").first).to_have_text(re.compile(r"\S"))
    await expect(page.get_by_role("button", name="Log in")).to_be_visible()
    await expect(page.get_by_role("button", name="Log out")).to_be_hidden()
    await expect(page.get_by_role("button", name="Create payment")).to_be_hidden()


async def test_bad_amount_shows_the_contracts_error(page: Page) -> None:
    await log_in(page)
    await page.get_by_role("textbox", name="Amount").fill("1.234")
    await page.get_by_role("button", name="Create payment").click()
    await expect(page.locator("#error")).to_have_text(re.compile(r"^amount: "))
    await expect(page.get_by_test_id("payment-status")).to_be_hidden()


async def test_totp_step_then_log_out(page: Page, client: Client) -> None:
    account = await enrolled_account(client, wrong_first=False)
    await log_in(page, account.email, MFA_PASSWORD)
    code_box = page.get_by_role("textbox", name="Authentication code")
    await expect(code_box).to_be_visible()
    await code_box.fill(code_at(account.secret, await current_step()))
    await page.get_by_role("button", name="Verify code").click()
    await expect(page.locator("#user-email")).to_have_text(account.email)

    await page.get_by_role("button", name="Log out").click()
    await expect(page.get_by_role("button", name="Log in")).to_be_visible()
    await expect(page.get_by_role("textbox", name="Amount")).to_be_hidden()


async def test_the_access_token_is_refreshed_before_it_expires(page: Page) -> None:
    # Timers under Playwright's clock (installed before the page's scripts run): the refresh
    # due a minute before expiresIn is reached by fast-forwarding, not by waiting 14 minutes.
    await page.clock.install()
    await page.reload()
    async with page.expect_response(
        lambda r: (
            r.request.post_data_json is not None
            and r.request.post_data_json.get("operationName") == "Login"
        )
    ) as login_response:
        await log_in(page)
    login = (await (await login_response.value).json())["data"]["login"]
    assert login["expiresIn"] > 60
    await expect(page.get_by_role("button", name="Log out")).to_be_visible()

    async with page.expect_response(
        lambda r: (
            r.request.post_data_json is not None
            and r.request.post_data_json.get("operationName") == "RefreshToken"
        )
    ) as refresh_response:
        await page.clock.fast_forward(login["expiresIn"] * 1000)
    refreshed = await (await refresh_response.value).json()
    assert "errors" not in refreshed, refreshed
    # The old refresh token was sent (and is now rotated); a new access token came back.
    request = (await refresh_response.value).request
    assert request.post_data_json["variables"] == {"refreshToken": login["refreshToken"]}
    new_token = refreshed["data"]["refreshToken"]["accessToken"]
    assert new_token != login["accessToken"]

    # The next operation carries the new token.
    async with page.expect_request(
        lambda r: (
            r.post_data_json is not None
            and r.post_data_json.get("operationName") == "CreatePayment"
        )
    ) as create_request:
        await create_payment(page, "210.00")
    assert (await create_request.value).headers["authorization"] == f"Bearer {new_token}"

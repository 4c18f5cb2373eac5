"""The simulator's checkout.js in Chromium, on the MFE's origin (CORS), driven the way a
merchant page drives Razorpay's: a wrong key is shown in the modal and nothing can be paid;
Escape and "Close" call `modal.ondismiss`; `close()` closes it."""

from __future__ import annotations

import base64

from playwright.async_api import Page, expect

from devtools.devstack import DevStack

OPEN = """([key, orderId]) => new Promise((resolve) => {
  window.events = [];
  const rzp = new Razorpay({
    key, order_id: orderId, amount: 10000, currency: 'INR',
    handler: (r) => window.events.push(['paid', r]),
    modal: { ondismiss: () => window.events.push(['dismissed']) },
  });
  rzp.on('payment.failed', (r) => window.events.push(['failed', r.error.code]));
  window.rzp = rzp;
  rzp.open();
  resolve(true);
})"""


async def load_checkout(page: Page, stack: DevStack) -> None:
    await page.add_script_tag(url=stack.url("simulator", "/v1/checkout.js"))


async def new_order(stack: DevStack, page: Page) -> str:
    """An order created through the simulator's API, as the payments subgraph would."""
    response = await page.request.post(
        stack.url("simulator", "/v1/orders"),
        data={"amount": 10000, "currency": "INR", "receipt": "browser-checkout"},
        headers={"authorization": basic_auth(stack)},
    )
    assert response.ok, await response.text()
    order_id: str = (await response.json())["id"]
    return order_id


def basic_auth(stack: DevStack) -> str:
    pair = f"{stack.env['RAZORPAY_KEY_ID']}:{stack.env['RAZORPAY_KEY_SECRET']}"
    return "Basic " + base64.b64encode(pair.encode()).decode()


async def test_a_wrong_key_is_shown_and_nothing_can_be_paid(
    page: Page, browser_stack: DevStack
) -> None:
    await load_checkout(page, browser_stack)
    order_id = await new_order(browser_stack, page)
    await page.evaluate(OPEN, ["rzp_test_not_ours", order_id])
    dialog = page.get_by_role("dialog", name="Razorpay Checkout")
    await expect(dialog.get_by_role("alert")).to_have_text("The api key provided is invalid")
    await expect(dialog.get_by_role("button", name="Pay now")).to_be_disabled()
    await expect(dialog.get_by_role("button", name="Fail payment")).to_be_disabled()


async def test_escape_and_close_dismiss_and_close_closes_silently(
    page: Page, browser_stack: DevStack
) -> None:
    await load_checkout(page, browser_stack)
    order_id = await new_order(browser_stack, page)
    key = browser_stack.env["RAZORPAY_KEY_ID"]
    dialog = page.get_by_role("dialog", name="Razorpay Checkout")

    await page.evaluate(OPEN, [key, order_id])
    await expect(dialog.get_by_test_id("rzp-amount")).to_have_text("INR 100.00")
    await page.keyboard.press("Escape")
    await expect(dialog).to_be_hidden()
    assert await page.evaluate("window.events") == [["dismissed"]]

    await page.evaluate(OPEN, [key, order_id])
    await dialog.get_by_role("button", name="Close").click()
    await expect(dialog).to_be_hidden()
    assert await page.evaluate("window.events") == [["dismissed"]]

    await page.evaluate(OPEN, [key, order_id])
    await expect(dialog).to_be_visible()
    await page.evaluate("window.rzp.close()")
    await expect(dialog).to_be_hidden()
    assert await page.evaluate("window.events") == []


async def test_fail_then_pay_calls_payment_failed_then_the_handler(
    page: Page, browser_stack: DevStack
) -> None:
    await load_checkout(page, browser_stack)
    order_id = await new_order(browser_stack, page)
    await page.evaluate(OPEN, [browser_stack.env["RAZORPAY_KEY_ID"], order_id])
    dialog = page.get_by_role("dialog", name="Razorpay Checkout")
    await dialog.get_by_role("button", name="Fail payment").click()
    await expect(dialog.get_by_role("alert")).to_contain_text("Payment failed")
    await dialog.get_by_role("button", name="Pay now").click()
    await expect(dialog).to_be_hidden()
    events = await page.evaluate("window.events")
    assert [event[0] for event in events] == ["failed", "paid"]
    assert events[0][1] == "BAD_REQUEST_ERROR"
    paid = events[1][1]
    assert paid["razorpay_order_id"] == order_id
    assert set(paid) == {"razorpay_payment_id", "razorpay_order_id", "razorpay_signature"}

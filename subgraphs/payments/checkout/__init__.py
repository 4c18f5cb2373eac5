"""The payer's side of Razorpay Checkout: startCheckout and verifyPayment."""

"""refundPayment: asking Razorpay for a refund, and the SQL of our refund rows."""

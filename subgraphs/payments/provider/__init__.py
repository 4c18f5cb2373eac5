"""Talking to Razorpay: the SDK gateway, its entities as typed values, the circuit breaker."""

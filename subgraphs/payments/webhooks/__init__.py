"""The Razorpay webhook sidecar (its own FastAPI process, :4005): verifies each delivery's
signature over the raw body, stores the event durably under its event id, then applies it
through the payments sync path; a background worker retries what did not apply."""

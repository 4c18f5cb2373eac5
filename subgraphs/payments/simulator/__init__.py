"""A faithful Razorpay simulator for development and tests: the `/v1` API the product calls
through the official SDK, a "pay this order" endpoint standing in for Checkout, and signed
webhooks delivered with Razorpay's habits (retries, duplicates, reordering, payload quirks).

See docs/simulator.md.
"""

from subgraphs.payments.simulator.app import create_app
from subgraphs.payments.simulator.settings import ConfigurationError, SimulatorSettings

__all__ = ["ConfigurationError", "SimulatorSettings", "create_app"]

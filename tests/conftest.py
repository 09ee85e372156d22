"""Shared test settings: hypothesis profiles (CI runs the thorough one)."""

import os

from hypothesis import HealthCheck, settings

# No deadline in either: a test that fails because the machine is busy tests the machine.
settings.register_profile("dev", max_examples=100, deadline=None)
settings.register_profile(
    "ci", max_examples=400, suppress_health_check=[HealthCheck.too_slow], deadline=None
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))

import os
import random

import pytest
from hypothesis import HealthCheck, settings

# CI runs the same examples every time (a red build must be reproducible);
# locally hypothesis explores new ones on each run.
settings.register_profile(
    "ci", derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow], print_blob=True
)
settings.register_profile("dev", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("ci" if os.environ.get("CI") else "dev")



@pytest.fixture(autouse=True)
def _random_module_state_is_each_tests_own():
    """A test that seeds the random module (random.seed(1337), as micrograd's demo does) leaves it as it found it,
    so that the next test draws the same numbers in any order, with or without pytest-randomly."""
    state = random.getstate()
    yield
    random.setstate(state)

"""The end-to-end deployment test runs against its own servers and database, not the suite's app."""
import pytest


@pytest.fixture(autouse=True)
def _clean_database():
    """The suite's per-test database clean-up does not apply here (tests/conftest.py)."""
    yield

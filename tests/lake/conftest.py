"""Fixtures of the lake tests: the one Spark session of a test process (tests/lake/test_spark*.py)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    """The one Spark session of the test process (local[2], the JVM's quick compiler only: ``TEST_CONF``), stopped
    at the end (a JVM start costs ~10 s)."""
    from anju.lake.spark import TEST_CONF, spark_session, stop_spark_session

    yield spark_session(master="local[2]", conf=TEST_CONF)
    stop_spark_session()

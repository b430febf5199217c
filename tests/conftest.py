"""Shared fixtures: a fresh `Cloud` per test, closed afterwards."""

from __future__ import annotations

import pytest

from localcloud import Cloud


@pytest.fixture
def cloud():
    with Cloud() as session:
        yield session

"""Parametrizes the lab tests: every test module in this folder exposes ``EXERCISES``.

    pytest tests/labs                       # solutions/ pass, labs/ not attempted, wrong answers fail
    pytest tests/labs --labs labs/          # a student's view: what still needs doing
    pytest tests/labs --labs submissions/ada  # one student's folder (NN.ipynb or labs/NN.ipynb)
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # the checks import localcloud from this checkout
    sys.path.insert(0, str(ROOT))


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--labs",
        default=None,
        metavar="DIR",
        help="folder of lab notebooks to check (default: solutions/; giving it skips the proof tests)",
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    exercises = getattr(metafunc.module, "EXERCISES", None)
    if exercises is None:
        return
    if "exercise" in metafunc.fixturenames:
        metafunc.parametrize("exercise", list(exercises), ids=[f"ex{e.number}" for e in exercises])
    if "wrong" in metafunc.fixturenames:
        ids = [f"ex{w.exercise}-wrong{i}" for i, w in enumerate(exercises.wrong, 1)]
        metafunc.parametrize("wrong", exercises.wrong, ids=ids)


@pytest.fixture
def labs_dir(request: pytest.FixtureRequest) -> Path:
    given = request.config.getoption("--labs")
    return Path(given).resolve() if given else ROOT / "solutions"


@pytest.fixture
def course_root() -> Path:
    return ROOT


@pytest.fixture
def lab_name(request: pytest.FixtureRequest) -> str:
    return request.module.EXERCISES.lab


@pytest.fixture
def proofs(request: pytest.FixtureRequest) -> None:
    if request.config.getoption("--labs"):
        pytest.skip("proofs that the checks bite run only against the course's own labs/ and solutions/")

"""The lab tests: every test module in this folder registers its checks in ``EXERCISES``.

A lab's module is the one place that lab is graded (``lab.check(n)`` in the notebook, these tests
and the gradebook all run its checks); a check takes the notebook's variables (``ns``) and, when it
names a second parameter, an empty ``Cloud``, and fails with an ``assert`` whose message is what the
student reads. This conftest gives each such module the three generic tests of
``localcloud.grading.testing`` and parametrizes them, so a module holds checks and nothing else.

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

from localcloud.grading import testing  # noqa: E402 - after the path is set


class LabModule(pytest.Module):
    """A test module that, when it defines EXERCISES, also collects the three generic lab tests."""

    def _getobj(self):
        module = super()._getobj()
        if hasattr(module, "EXERCISES"):
            for test in (testing.test_exercise, testing.test_untouched_lab_is_not_attempted,
                         testing.test_known_wrong_answer_fails):
                vars(module).setdefault(test.__name__, test)
        return module


def pytest_pycollect_makemodule(module_path: Path, parent: pytest.Collector) -> pytest.Module | None:
    if module_path.name.startswith("test_"):
        return LabModule.from_parent(parent, path=module_path)
    return None


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

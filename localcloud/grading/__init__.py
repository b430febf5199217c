"""Grading for the course's labs: single-source labs, in-notebook checks, lab tests, a gradebook.

In a lab notebook::

    from localcloud.grading import Lab, NotAttempted
    lab = Lab("00-getting-started")     # loads tests/labs/test_00_getting_started.py
    ...
    lab.check(1)                         # ✓ passed / ✗ failed: reason / … not attempted
    lab.hint(1)

In ``tests/labs/test_NN_name.py`` a lesson author registers one check per exercise with
:class:`Exercises` (see that test module for a worked example).
"""

from .exercises import (
    ERROR,
    FAILED,
    NOT_ATTEMPTED,
    PASSED,
    TIMEOUT,
    Exercise,
    Exercises,
    Fail,
    NotAttempted,
    Result,
    handler_errors,
)
from .lab import CheckFailed, Lab

__all__ = [
    "ERROR",
    "FAILED",
    "NOT_ATTEMPTED",
    "PASSED",
    "TIMEOUT",
    "CheckFailed",
    "Exercise",
    "Exercises",
    "Fail",
    "Lab",
    "NotAttempted",
    "Result",
    "handler_errors",
]

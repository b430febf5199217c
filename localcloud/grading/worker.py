"""One exercise of one student's notebook, graded in a process of its own (started by the gradebook).

Whatever the student's code does — ``sys.exit``, a 50 MB print, writing files, an exception at
import — stays in here: output goes to a capped buffer, files land in the throw-away cwd the
gradebook gives us (and may not grow past a few MB), and the verdict goes to a JSON file whose
path only the gradebook knows. Infinite loops are the gradebook's to kill.

    python -m localcloud.grading.worker NOTEBOOK LAB EXERCISE RESULT_JSON --root ROOT
"""

from __future__ import annotations

import argparse
import io
import json
import os
import signal
import sys
from dataclasses import asdict
from pathlib import Path

OUTPUT_CAP = 10_000  # characters of a student's prints kept (the rest is counted, not stored)
FILE_SIZE_CAP = 8 * 1024 * 1024  # bytes any one file written by the student may reach


class CappedText(io.TextIOBase):
    """A text stream that keeps the first `cap` characters and drops the rest."""

    def __init__(self, cap: int = OUTPUT_CAP) -> None:
        self.cap, self.kept, self.dropped = cap, [], 0
        self._size = 0

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        room = self.cap - self._size
        if room > 0:
            self.kept.append(text[:room])
            self._size += min(room, len(text))
        self.dropped += max(0, len(text) - max(room, 0))
        return len(text)


def _limit_files() -> None:
    try:
        import resource

        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # oversized writes raise OSError instead of killing us
        resource.setrlimit(resource.RLIMIT_FSIZE, (FILE_SIZE_CAP, FILE_SIZE_CAP))
    except (ImportError, ValueError, OSError, AttributeError):
        pass


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m localcloud.grading.worker")
    parser.add_argument("notebook", type=Path)
    parser.add_argument("lab")
    parser.add_argument("exercise", type=int)
    parser.add_argument("result", type=Path)
    parser.add_argument("--root", type=Path, required=True)
    args = parser.parse_args(argv)

    from .exercises import ERROR, Result, _short
    from .notebooks import ROOT_VARIABLE
    from .runner import load_exercises, run_exercise

    os.environ[ROOT_VARIABLE] = str(args.root.resolve())  # `Lab(...)` in a setup cell finds the course
    exercise = load_exercises(args.lab, args.root.resolve())[args.exercise]
    _limit_files()
    captured = CappedText()
    sys.stdout = sys.stderr = captured
    try:
        result = run_exercise(args.notebook.resolve(), exercise)
    except BaseException as exc:  # noqa: BLE001 — last line of defence; report, do not crash
        result = Result(args.exercise, ERROR, _short(f"grader crashed: {type(exc).__name__}: {exc}"))
    finally:
        sys.stdout, sys.stderr = sys.__stdout__, sys.__stderr__
    payload = asdict(result) | {"output_chars": captured._size + captured.dropped}
    args.result.write_text(json.dumps(payload), encoding="utf-8")
    sys.stdout.flush()
    os._exit(0)  # do not wait for threads a student's handler may have left spinning


if __name__ == "__main__":
    main()

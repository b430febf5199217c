"""Grade a class: every student's every exercise in its own process, with a time limit.

    python -m localcloud.grading.gradebook SUBMISSIONS [--out grades.csv] [--timeout 30] [--jobs N]

SUBMISSIONS holds one folder per student with ``labs/NN-name.ipynb`` (or the notebooks directly
in the student's folder). Every lab that has checks in ``tests/labs`` is graded for every student;
a lab a student did not hand in counts as not attempted. A broken submission (syntax error,
infinite loop, ``sys.exit``, a crash, a flood of output, stray files) costs only the exercise it is
in, because each exercise runs in a fresh process, in a fresh temporary directory, under a limit.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import signal
import subprocess
import sys
import tempfile
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from .exercises import ERROR, NOT_ATTEMPTED, PASSED, STATUSES, TIMEOUT, _short
from .notebooks import find_root, lab_names, test_module_path
from .runner import load_exercises

PACKAGE_PARENT = str(Path(__file__).resolve().parents[2])  # so workers import this very checkout
COLUMNS = ("student", "lab", "exercise", "status", "message")


@dataclass(frozen=True)
class Row:
    student: str
    lab: str
    exercise: int
    status: str
    message: str = ""


@dataclass(frozen=True)
class Job:
    student: str
    lab: str
    exercise: int
    notebook: Path | None


def graded_labs(root: Path) -> list[str]:
    """Labs that have a solution and a test module: those are the ones a class is graded on."""
    return [name for name in lab_names(root, "solutions") if test_module_path(root, name).exists()]


def find_notebook(student_dir: Path, lab: str) -> Path | None:
    for candidate in (student_dir / "labs" / f"{lab}.ipynb", student_dir / f"{lab}.ipynb"):
        if candidate.is_file():
            return candidate
    return None


def plan(submissions: Path, root: Path) -> list[Job]:
    jobs = []
    students = sorted(p for p in submissions.iterdir() if p.is_dir() and not p.name.startswith("."))
    for student_dir in students:
        for lab in graded_labs(root):
            notebook = find_notebook(student_dir, lab)
            for number in load_exercises(lab, root).numbers:
                jobs.append(Job(student_dir.name, lab, number, notebook))
    return jobs


def run_job(job: Job, root: Path, timeout: float) -> Row:
    """Grade one exercise in a child process; never raises."""
    if job.notebook is None:
        return Row(job.student, job.lab, job.exercise, NOT_ATTEMPTED, "notebook not handed in")
    with tempfile.TemporaryDirectory(prefix="grade-") as tmp:
        result_path, workdir = Path(tmp) / "result.json", Path(tmp) / "cwd"
        workdir.mkdir()
        command = [sys.executable, "-m", "localcloud.grading.worker", str(job.notebook.resolve()), job.lab,
                   str(job.exercise), str(result_path), "--root", str(root)]
        env = os.environ | {"PYTHONPATH": os.pathsep.join(filter(None, [PACKAGE_PARENT, os.environ.get("PYTHONPATH")]))}
        with open(Path(tmp) / "stderr.txt", "w+b") as stderr:
            proc = subprocess.Popen(command, cwd=workdir, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                    stderr=stderr, env=env, start_new_session=True)
            try:
                code = proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                _kill_group(proc)
                return Row(job.student, job.lab, job.exercise, TIMEOUT, f"still running after {timeout:g} s (infinite loop?)")
            if result_path.exists():
                data = json.loads(result_path.read_text(encoding="utf-8"))
                return Row(job.student, job.lab, job.exercise, data["status"], data["message"])
            stderr.seek(max(0, os.fstat(stderr.fileno()).st_size - 2000))
            tail = stderr.read().decode("utf-8", "replace").strip().splitlines()[-1:] or [""]
            return Row(job.student, job.lab, job.exercise, ERROR, _short(f"grader process ended with exit code {code} before reporting: {tail[0]}"))


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        proc.kill()
    proc.wait()


def grade(submissions: Path, root: Path, *, timeout: float = 30.0, jobs: int | None = None) -> list[Row]:
    work = plan(submissions, root)
    with ThreadPoolExecutor(max_workers=jobs or os.cpu_count() or 2) as pool:
        return list(pool.map(lambda job: run_job(job, root, timeout), work))


def write_csv(rows: list[Row], out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        for row in rows:
            writer.writerow([row.student, row.lab, row.exercise, row.status, row.message])


def summary(rows: list[Row]) -> str:
    """One line per student: how many exercises ended each way, and the score."""
    students = sorted({r.student for r in rows})
    header = ["student", *STATUSES, "score"]
    table = []
    for student in students:
        counts = Counter(r.status for r in rows if r.student == student)
        total = sum(counts.values())
        table.append([student, *(str(counts.get(s, 0)) for s in STATUSES), f"{counts.get(PASSED, 0)}/{total}"])
    widths = [max(len(h), *(len(row[i]) for row in table)) if table else len(h) for i, h in enumerate(header)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True))]
    lines += ["  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)) for row in table]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m localcloud.grading.gradebook", description=__doc__.splitlines()[0])
    parser.add_argument("submissions", type=Path, help="folder with one sub-folder per student")
    parser.add_argument("--out", type=Path, default=Path("grades/grades.csv"), help="CSV to write (default: %(default)s)")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds per exercise (default: %(default)s)")
    parser.add_argument("--jobs", type=int, default=None, help="processes at once (default: CPU count)")
    parser.add_argument("--root", type=Path, default=None, help="course checkout (default: found from cwd)")
    args = parser.parse_args(argv)
    if not args.submissions.is_dir():
        parser.error(f"{args.submissions} is not a folder")
    root = find_root(args.root)
    rows = grade(args.submissions, root, timeout=args.timeout, jobs=args.jobs)
    write_csv(rows, args.out)
    print(summary(rows))
    print(f"\n{len(rows)} results written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Each lesson top to bottom, as Restart & Run All does it: wall time per notebook (target < 30 s).

    python benchmarks/lessons.py [notebooks/07-fan-out.ipynb ...]
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]


def run(path: Path) -> tuple[float, float]:
    """(seconds with kernel start, seconds of cells): the second is what a student waits after Run All."""
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(notebook, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}},
                            extra_arguments=["--IPKernelApp.log_level=ERROR"])  # ipykernel ≥ 7 warns about loopback TCP
    started = time.perf_counter()
    with client.setup_kernel():
        ready = time.perf_counter()
        for index, cell in enumerate(notebook.cells):
            client.execute_cell(cell, index)
    done = time.perf_counter()
    return done - started, done - ready


def main() -> None:
    paths = [Path(p) for p in sys.argv[1:]] or sorted((ROOT / "notebooks").glob("[0-9][0-9]-*.ipynb"))
    print(f"{'lesson':38} {'with kernel':>12} {'cells':>8}")
    for path in paths:
        total, cells = run(path)
        flag = "" if total < 30 else "  over 30 s"
        print(f"{path.stem:38} {total:10.1f} s {cells:6.1f} s{flag}")


if __name__ == "__main__":
    main()

"""Every benchmark of the repo, one after the other, in one process run (`make bench`)."""

import runpy
from pathlib import Path

here = Path(__file__).parent
for script in ("runtime.py", "pollers.py", "lessons.py"):
    if (here / script).exists():
        print(f"\n== {script} ==")
        runpy.run_path(str(here / script), run_name="__main__")

"""The project's own promises: one dependency list, two README commands, CI calling the test command."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def test_environment_yml_carries_exactly_the_pyproject_dependencies():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = set(project["dependencies"]) | set(project["optional-dependencies"]["test"])
    environment = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip = next(d["pip"] for d in environment["dependencies"] if isinstance(d, dict))
    assert set(pip) - {"-e ."} == wanted
    assert "python=3.11" in environment["dependencies"]


def test_readme_gives_the_two_commands_and_ci_runs_the_test_one():
    readme = (ROOT / "README.md").read_text()
    block = re.search(r"## Two commands.*?```bash\n(.*?)```", readme, re.S).group(1)
    commands = [line.split("#")[0].strip() for line in block.splitlines() if line.strip()]
    assert commands == ["make lab", "make test"]
    ci = (ROOT / ".ci" / "run").read_text()
    assert re.search(r"^make test$", ci, re.M)


def test_makefile_targets_named_by_the_issues_exist():
    makefile = (ROOT / "Makefile").read_text()
    for target in ("setup", "lab", "test", "labs", "grade", "demo", "bench"):
        assert re.search(rf"^{target}:", makefile, re.M), target
    assert "ipykernel install" in makefile and "jupyter lab" in makefile

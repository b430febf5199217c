# Thin wrappers: each target is one line of intent. Everything runs from the project's own .venv.
VENV ?= .venv
PY := $(VENV)/bin/python
KERNEL := serverless-course
PATTERN ?= fan-out
SUBMISSIONS ?= submissions

.PHONY: setup lab test labs grade demo lint bench

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml constraints.txt
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[test]" -c constraints.txt
	$(PY) -m ipykernel install --sys-prefix --name $(KERNEL) --display-name "Serverless course (localcloud)" >/dev/null
	touch $@

lab: setup                 ## start the course in JupyterLab
	$(VENV)/bin/jupyter lab --notebook-dir=notebooks

test: setup                ## every test: runtime, sources, labs, notebooks, browser
	$(PY) -m pytest

labs: setup                ## regenerate labs/ from solutions/
	$(PY) -m localcloud.grading.labgen

grade: setup               ## grade a class: make grade SUBMISSIONS=DIR
	$(PY) -m localcloud.grading.gradebook $(SUBMISSIONS)

demo: setup                ## run one pattern headless: make demo PATTERN=fan-out
	$(PY) -m localcloud.demo $(PATTERN)

lint: setup
	$(VENV)/bin/ruff check localcloud tests benchmarks

bench: setup               ## performance targets of the issues, measured in one run
	$(PY) benchmarks/run.py

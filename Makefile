# Two commands on a fresh machine: `make demo` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: demo airflow test lint bench dist clean

$(STAMP): setup.cfg pyproject.toml constraints.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade "pip>=24" setuptools wheel
	$(PY) -m pip install -q -c constraints.txt -e '.[airflow,test]'
	@# The install's metadata lives in .venv; a copy left in the tree would be a second distribution for
	@# whatever runs with the repo on sys.path (Airflow would then load the plugin entry point twice).
	rm -rf luigi_fargate.egg-info
	@touch $(STAMP)

demo: $(STAMP)
	$(PY) examples/demo.py

# A local Airflow (api-server, scheduler, dag-processor, triggerer) with the example DAG; Ctrl-C stops it.
PORT ?= 8080
airflow: $(STAMP)
	$(PY) examples/local_deployment.py --port $(PORT)

test: $(STAMP)
	$(PY) -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check luigi_fargate airflow_bridge tests bench examples docs

# The wheel and sdist that deploy/Dockerfile installs (the build backend of .venv, no download).
dist: $(STAMP)
	rm -rf dist
	$(PY) -m build --no-isolation --outdir dist .
	rm -rf luigi_fargate.egg-info

bench: $(STAMP)
	$(PY) bench/export_and_parse.py
	$(PY) bench/shim_overhead.py

clean:
	rm -rf demo-out local-airflow build dist *.egg-info

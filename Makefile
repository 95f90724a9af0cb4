# physical_ai: `make demo` and `make test` set everything up themselves (see README.md).

VENV := .venv
PY := $(VENV)/bin/python
PYTHON ?= python3.11
INTERFACES := $(shell find interfaces -type f 2>/dev/null)
# Files installed under share/physical_ai: a new one is linked in by the next `make`.
DATA := $(shell find launch config models -type f 2>/dev/null)

.PHONY: setup demo test lint bench clean

setup: $(VENV)/.stamp-prefix

$(PY):
	@command -v $(PYTHON) >/dev/null || { echo "error: $(PYTHON) not found; install Python 3.11 or run make PYTHON=/path/to/python3.11"; exit 1; }
	$(PYTHON) -m venv $(VENV)

$(VENV)/.stamp-requirements: requirements.txt requirements-nodeps.txt tools/system_deps.sh | $(PY)
	bash tools/system_deps.sh
	$(PY) -m pip install --disable-pip-version-check -q -r requirements.txt
	$(PY) -m pip install --disable-pip-version-check -q --no-deps -r requirements-nodeps.txt
	touch $@

# The vendored vision_msgs and tf2_msgs (interfaces/ has COLCON_IGNORE: robots use their distribution's).
$(VENV)/.stamp-interfaces: $(INTERFACES) tools/build_interfaces.sh $(VENV)/.stamp-requirements
	bash tools/build_interfaces.sh $(VENV)
	touch $@

$(VENV)/.stamp-package: setup.py setup.cfg package.xml $(VENV)/.stamp-interfaces
	$(PY) -m pip install --disable-pip-version-check -q --no-deps --no-build-isolation -e .
	touch $@

# share/physical_ai as real folders of links to the source files (ros2 launch walks it).
$(VENV)/.stamp-prefix: $(VENV)/.stamp-package $(DATA)
	$(PY) -m physical_ai.ament_prefix
	touch $@

demo: setup
	$(VENV)/bin/physical-ai demo

test: setup
	$(PY) -m pytest

lint: setup
	$(PY) -m ruff check .

bench: setup
	@for b in bench/*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache

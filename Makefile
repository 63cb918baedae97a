# The two commands of the README: `make demo` and `make test`. Both set everything up first.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PYX := $(shell find devicetwin firmware_bridge hil -name '*.pyx' -o -name '*.pxd' 2>/dev/null)

.PHONY: setup system-deps build demo test lint pytest test-debug bench clean

setup: system-deps $(STAMP) build

system-deps:
	@bash tools/install-system-deps.sh

$(STAMP): pyproject.toml setup.py
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q "setuptools>=77" wheel "Cython>=3.0" "numpy>=1.26"
	$(PY) -m pip install -q --no-build-isolation -e ".[test]"
	@touch $(STAMP)

# A failed Cython or C build fails `make build` (and so `make test` and `make demo`).
build: $(STAMP)
	$(PY) setup.py -q build_ext --inplace -j 2
	@$(PY) -c "import devicetwin, firmware_bridge, hil"

demo: setup
	$(VENV)/bin/devicetwin demo

lint: setup
	$(VENV)/bin/ruff check devicetwin firmware_bridge hil tests benchmarks
	$(VENV)/bin/mypy

pytest: setup
	$(PY) -m pytest $(PYTEST_ARGS)

# The kernels (cell network and event-level heart) and the sensing front end once more, built without optimisation and with Cython's
# bounds, wraparound and initialisation checks (DEVICETWIN_CYTHON_DEBUG=1), in a copy of the
# sources under build/debug-tree so the optimised build in place is left alone.
DEBUG_TREE := build/debug-tree
DEBUG_TESTS := tests/devicetwin/heart tests/devicetwin/fastheart tests/devicetwin/cohort $(wildcard tests/devicetwin/pacemaker/test_sensing_*.py)
test-debug: setup
	@rm -rf $(DEBUG_TREE) && mkdir -p $(DEBUG_TREE)
	@git ls-files -z --cached --others --exclude-standard devicetwin hil firmware_bridge tests tools setup.py pyproject.toml README.md \
	  | xargs -0 cp --parents -t $(DEBUG_TREE)
	cd $(DEBUG_TREE) && DEVICETWIN_CYTHON_DEBUG=1 $(abspath $(PY)) setup.py -q build_ext --inplace -j 2
	cd $(DEBUG_TREE) && $(abspath $(PY)) -c "import devicetwin.heart._kernel as k, \
	  devicetwin.pacemaker._frontend as f, os; here = os.getcwd(); \
	  assert all(m.__file__.startswith(here) for m in (k, f)), 'debug tree not imported'"
	cd $(DEBUG_TREE) && $(abspath $(PY)) -m pytest -q -p no:cacheprovider $(DEBUG_TESTS)

test: lint pytest test-debug

# Speed: every benchmark prints medians and one JSON object as its last line.
bench: setup
	$(PY) -m pip install -q -e ".[bench]" --no-build-isolation
	@for b in pacemaker sensing heart bridge conformance emulator bench visa cohort vectors; do \
	  echo "== benchmarks/$$b.py"; $(PY) benchmarks/$$b.py || exit 1; done

clean:
	rm -rf build $(VENV)
	find devicetwin firmware_bridge hil -name '*.so' -delete

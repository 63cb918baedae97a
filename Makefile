# The two commands of the README: `make demo` and `make test`. Both set everything up first.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PYX := $(shell find devicetwin firmware_bridge hil -name '*.pyx' -o -name '*.pxd' 2>/dev/null)

.PHONY: setup system-deps build demo test lint pytest bench clean

setup: system-deps $(STAMP) build

system-deps:
	@bash tools/install-system-deps.sh

$(STAMP): pyproject.toml setup.py
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q "setuptools>=77" wheel "Cython>=3.0" "numpy>=1.26"
	$(PY) -m pip install -q --no-build-isolation -e ".[test]"
	@touch $(STAMP)

build: $(STAMP)
	@$(PY) setup.py -q build_ext --inplace -j 2 2>&1 | grep -v '^$$' || true
	@$(PY) -c "import devicetwin, firmware_bridge, hil" 

demo: setup
	$(VENV)/bin/devicetwin demo

lint: setup
	$(VENV)/bin/ruff check devicetwin firmware_bridge hil tests benchmarks
	$(VENV)/bin/mypy

pytest: setup
	$(PY) -m pytest $(PYTEST_ARGS)

test: lint pytest

# Speed: every benchmark prints medians and one JSON object as its last line.
bench: setup
	$(PY) -m pip install -q -e ".[bench]" --no-build-isolation
	@for b in pacemaker sensing heart bridge conformance emulator bench visa; do \
	  echo "== benchmarks/$$b.py"; $(PY) benchmarks/$$b.py || exit 1; done

clean:
	rm -rf build $(VENV)
	find devicetwin firmware_bridge hil -name '*.so' -delete

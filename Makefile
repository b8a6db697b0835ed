# One-command set-up and test: `make test` creates .venv, installs rnnlab and its test
# dependencies, then runs the whole suite (unit tests and doctests).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

# Keep PyTensor's compile cache inside the project so it is reused across runs and easy to wipe.
export RNNLAB_CACHE_DIR ?= $(CURDIR)/.cache/pytensor
export OMP_NUM_THREADS := 1
export OPENBLAS_NUM_THREADS := 1

.PHONY: venv test test-fast clean-cache

venv: $(STAMP)

$(STAMP): setup.py requirements.txt requirements-dev.txt requirements-sweep.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

test: $(STAMP)
	$(BIN)/python -m pytest -n 2 --dist loadfile

clean-cache:
	rm -rf .cache/pytensor

# Two commands set everything up from a fresh clone (Python 3.11 and the package registry only):
#   make demo   creates .venv, installs rnnlab, then runs the flagship experiment on the bundled
#               data: Elman vs LSTM on the Shakespeare corpus and on airline passengers
#   make test   creates .venv, installs rnnlab and its test dependencies, compiles the float64
#               kernels the gradient checks use, runs the whole suite
#   make docs   builds the documentation (docs/, Sphinx) into docs/_build/html, warnings as errors
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

# Keep PyTensor's compile cache inside the project so it is reused across runs and easy to wipe.
export RNNLAB_CACHE_DIR ?= $(CURDIR)/.cache/pytensor
export OMP_NUM_THREADS := 1
export OPENBLAS_NUM_THREADS := 1

# make demo writes into a new folder each time (runs/ is ignored by git).  DEMO_SECONDS: the
# training budget of each Shakespeare run (compiling and evaluating not counted).  DEMO_MODE: the
# compile mode; NUMBA, whose models of these experiments the set-up has compiled (rnnlab.warmup
# --setup), so the demo starts warm and trains faster than in CVM (docs/setup.md).  DEMO_OVERRIDES: extra
# section.key=value overrides for every demo run (the test suite makes them tiny).
DEMO_DIR       := runs/demo-$(shell date +%Y%m%d-%H%M%S)
DEMO_SECONDS   ?= 60
DEMO_MODE      ?= NUMBA
DEMO_OVERRIDES ?=
# make docs writes the HTML site here.
DOCS_OUT       ?= docs/_build/html

.PHONY: venv demo test docs clean-cache

venv: $(STAMP)

$(STAMP): setup.py requirements.txt requirements-dev.txt requirements-sweep.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	$(BIN)/python -m rnnlab.warmup --setup
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/python -m rnnlab.compare --config experiments/shakespeare_lstm.toml --vary model.cell=elman,lstm --jobs 2 --out $(DEMO_DIR)/shakespeare train.time_budget=$(DEMO_SECONDS) device.mode=$(DEMO_MODE) $(DEMO_OVERRIDES)
	$(BIN)/python -m rnnlab.compare --config experiments/airline_lstm.toml --vary model.cell=elman,lstm --jobs 2 --out $(DEMO_DIR)/airline device.mode=$(DEMO_MODE) $(DEMO_OVERRIDES)
	$(BIN)/python -m rnnlab.sample $(DEMO_DIR)/shakespeare/runs/cell-lstm_s0 --length 300 --prime "ROMEO:" > $(DEMO_DIR)/sample.txt
	@echo; echo "Comparison reports:"; ls -1 $(DEMO_DIR)/*/report.md
	@echo; echo "Plots:"; ls -1 $(DEMO_DIR)/*/*.png $(DEMO_DIR)/airline/runs/*/forecast/forecast.png
	@echo; echo "Text sample ($(DEMO_DIR)/sample.txt):"; cat $(DEMO_DIR)/sample.txt

test: $(STAMP)
	$(BIN)/python -m rnnlab.warmup --dtypes float64
	$(BIN)/python -m pytest -n 2 --dist loadfile

docs: $(STAMP)
	$(BIN)/python -m sphinx -W --keep-going -q -b html docs $(DOCS_OUT)
	@echo "The documentation: $(DOCS_OUT)/index.html"

clean-cache:
	rm -rf .cache/pytensor

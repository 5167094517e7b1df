# Every target sets up what it needs: a fresh machine with Python 3.11 is enough.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DATA ?= ../shared/data/caltech101

.PHONY: install train paper report bench bench-gpu bench-sweep test test-wheel test-slurm lint tensorboard clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $@

train: install  ## the 12-run study on the embedded digits, jobs in parallel: 1.5 minutes on 2 cores
	$(BIN)/python -m imbalance.train -m hydra/launcher=joblib ratio=1,3,7,15 reg=none,full,norm

paper: install  ## the paper's 12 runs on Caltech101 (DATA=<dir>)
	$(BIN)/python -m imbalance.train -m experiment=paper data.root=$(DATA) ratio=1,3,7,15 reg=none,full,norm

report: install  ## tables and figures of the newest sweep (or SWEEP=<dir>)
	$(BIN)/python -m imbalance.report $(SWEEP)

bench: install  ## digits, paper and CIFAR-10-LT presets: framework vs bare loop vs naive vs Lightning's Trainer and Fabric alone; data larger than memory -> BENCHMARKS.md
	$(BIN)/python -m imbalance.bench --preset digits
	$(BIN)/python -m imbalance.bench --preset paper --data $(DATA)
	$(BIN)/python -m imbalance.bench --preset cifar10_lt --per-class 500
	$(BIN)/python -m imbalance.bench --scale 20000,100000

bench-gpu: install  ## on a GPU: a whole 200-epoch CIFAR-10-LT run (images of CIFAR's shapes unless CIFAR=<root>) against the bare loop -> BENCHMARKS.md
	$(BIN)/python -m imbalance.bench --preset cifar10_lt --epochs 200 --baseline-epochs 20 --repeat 1 --accelerator gpu --precision bf16-mixed --skip-naive $(if $(CIFAR),--data $(CIFAR))

bench-sweep: install  ## the digits' study and remedies sweeps, basic vs joblib launcher -> BENCHMARKS.md
	$(BIN)/python -m imbalance.bench --preset digits --sweep study
	$(BIN)/python -m imbalance.bench --preset digits --sweep remedies

test: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest

test-wheel:  ## a built wheel in a fresh venv runs a tiny sweep and its report outside the repo
	PYTHON=$(PYTHON) bash .ci/wheel

test-slurm: install  ## a 2-job sweep on a one-node SLURM cluster started here (root, Debian), then stopped
	PYTHON=$(BIN)/python .ci/slurm

lint: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

tensorboard: install
	$(BIN)/tensorboard --logdir outputs

clean:  ## removes run outputs and caches, keeps the virtual environment
	rm -rf outputs/runs outputs/multirun .pytest_cache .ruff_cache
	find . -name __pycache__ -not -path "./$(VENV)/*" -prune -exec rm -rf {} +

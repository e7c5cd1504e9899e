# The two commands a course user needs (see README):
#   make lab    set up packages, then `python -m mnist_kit lab`: MNIST, then the notebooks in JupyterLab
#   make test   set up packages, then `python -m mnist_kit test`: MNIST, lint, the whole test suite
#               (notebooks included), the README's tables checked
# Both steps after the install live in mnist_kit/__main__.py, so students without make (Windows) run the same.
# Packages go into the active Python environment (a venv or conda env you activated): no new
# multi-gigabyte environment per clone. PYTHON=... picks another interpreter.
PYTHON ?= python3
# One install stamp per interpreter, so `PYTHON=python3.11 make test` installs into that one too.
PYTHON_ID := $(shell $(PYTHON) -c 'import hashlib, sys; print(hashlib.md5(sys.executable.encode()).hexdigest()[:12])')
STAMP := .make/installed-$(PYTHON_ID)
# Every study (its recipes, seeds, split, window and goal) is one entry of mnist_kit/studies.py; `python -m mnist_kit
# study --list` lists them. Each target below trains its studies at full length, whatever MNIST_KIT_SMOKE says: the
# course's records are full runs, one rule for all.
STUDY := MNIST_KIT_SMOKE=0 $(PYTHON) -m mnist_kit study
# Sweeps, the frontier, the ablations and the search train several runs side by side, one thread each (default:
# one per physical core on a CPU, 4 per GPU; see README "Parallel sweeps"). JOBS=1: one after another, as before.
JOBS ?=
JOBS_FLAG := $(if $(JOBS), --jobs $(JOBS))

.PHONY: setup data lab test lint train sweep frontier ablation search reproduce report benchmark clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m pip install --disable-pip-version-check -q -e '.[test]'
	@mkdir -p $(@D) && touch $@

data: setup
	$(PYTHON) -m mnist_kit data

lab: setup
	$(PYTHON) -m mnist_kit lab

test: setup
	$(PYTHON) -m mnist_kit test

lint: setup
	$(PYTHON) -m ruff check .
	$(PYTHON) -m ruff format --check .

train: data
	$(PYTHON) -m mnist_kit train model_4

# Model_4's seed sweep (seeds 11-30, never used while tuning), then the one test sweep of each new recipe, on seeds
# no run had used: model_5b (21-25) and model_4b (31-50), each against its goal. Every seed is trained again
# (--again). Attempt 1's sweep (model_5, seeds 11-15) is kept as it was recorded: no target trains it again.
sweep: data
	$(STUDY) model_4 model_5b model_4b --again$(JOBS_FLAG)

# Notebook 5's measurements: every network of the frontier on Model_4's recipe, then the 3k-6k networks on
# attempt 2's recipe (its second series; the studies frontier and frontier_b), 3 seeds each, then the README tables. About 21
# full runs of small networks: two hours or so on a laptop CPU. Not part of `make reproduce`, which it would make
# twice as long. Model_4's and Model_5's first-series points are their sweeps' seeds 11-13, kept as recorded.
frontier: data
	$(STUDY) frontier frontier_b --again$(JOBS_FLAG)
	$(PYTHON) -m mnist_kit report

# The instructor's command: every notebook at full length, in place (--course: each lesson writes
# results/<recipe>.json; the solutions' exercises go to my_runs/ as a student's would),
# Model_4 on the classic pipeline, the Model_4 seed sweep, then the README tables regenerated from the
# records. About 26 full runs (20 of them the sweep): hours on a laptop CPU, minutes on a GPU.
reproduce: data
	MNIST_KIT_SMOKE=0 $(PYTHON) tools/run_notebooks.py --course notebooks/0*.ipynb
	MNIST_KIT_SMOKE=0 $(PYTHON) tools/run_notebooks.py notebooks/solutions/*.ipynb
	MNIST_KIT_SMOKE=0 $(PYTHON) -m mnist_kit train model_4 --pipeline classic
	$(STUDY) model_4 --again$(JOBS_FLAG)
	$(PYTHON) -m mnist_kit report

# One change at a time (notebooks 2 and 3): the study ablation, each change on the validation split, seeds 1-2,
# recorded in results/ablation/. 16 full runs of small networks.
ablation: data
	$(STUDY) ablation --again$(JOBS_FLAG)

# The stronger-recipe search (the studies search_model_5, search_model_4): each candidate on the validation split,
# Model_5's on seeds 1-2, Model_4's on seeds 1-4 (records in results/validation/; a seed already recorded is not
# trained again), each round judged into results/tuning/model_5.json and model_4.json, then the README tables.
# 14 full runs of small networks (20, less attempt 1's six already recorded), then 20 of Model_4.
search: data
	$(STUDY) search_model_5 search_model_4$(JOBS_FLAG)
	$(PYTHON) -m mnist_kit report

report: setup
	$(PYTHON) -m mnist_kit report

benchmark: data
	$(PYTHON) benchmarks/epoch_speed.py
	$(PYTHON) -m mnist_kit report

clean:
	rm -rf .make .pytest_cache .ruff_cache

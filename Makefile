# The two commands a course user needs (see README):
#   make lab    set up packages, then `python -m mnist_kit lab`: MNIST, then the notebooks in JupyterLab
#   make test   set up packages, then `python -m mnist_kit test`: MNIST, lint, the whole test suite
#               (notebooks included), the generated tables checked (README.md, docs/)
# Both steps after the install live in mnist_kit/__main__.py, so students without make (Windows) run the same.
# Packages go into the active Python environment (a venv or conda env you activated): no new
# multi-gigabyte environment per clone. PYTHON=... picks another interpreter. `make lab` installs what a student
# needs (the kit and JupyterLab); `make test` adds the test extra (pyproject.toml).
PYTHON ?= python3
# A Python that pip may not install into (PEP 668: Debian's or Ubuntu's own, outside a venv) is replaced by the
# project venv .venv/, made from it on first use and reused after (tools/project_venv.py says so in one line).
VENV_PYTHON := $(shell $(PYTHON) tools/project_venv.py --which)
ifneq ($(VENV_PYTHON),)
BASE_PYTHON := $(PYTHON)
override PYTHON := $(VENV_PYTHON)
VENV := .venv/pyvenv.cfg
endif
# One install stamp per interpreter, so `PYTHON=python3.11 make test` installs into that one too.
PYTHON_ID := $(if $(VENV),venv,$(shell $(PYTHON) -c 'import hashlib, sys; print(hashlib.md5(sys.executable.encode()).hexdigest()[:12])'))
STAMP := .make/installed-$(PYTHON_ID)
TEST_STAMP := .make/installed-test-$(PYTHON_ID)
CLUSTER_STAMP := .make/installed-cluster-$(PYTHON_ID)
# Every study (its recipes, seeds, split, window and goal) is one entry of mnist_kit/studies.py; `python -m mnist_kit
# study --list` lists them. Each target below trains its studies at full length, whatever MNIST_KIT_SMOKE says: the
# course's records are full runs, one rule for all.
STUDY := MNIST_KIT_SMOKE=0 $(PYTHON) -m mnist_kit study
# Sweeps, the frontier, the ablations and the search train several runs side by side, one thread each (default:
# one per physical core on a CPU, 4 per GPU; see docs/INSTRUCTOR.md). JOBS=1: one after another, as before.
JOBS ?=
JOBS_FLAG := $(if $(JOBS), --jobs $(JOBS))

.PHONY: setup data lab test binder-test book lint train sweep frontier ablation search reproduce report benchmark clean
.PHONY: setup-test setup-cluster test-fresh-env pair release autograde

# setup: the kit and JupyterLab, a student's install; setup-test: the test extra too (tests and instructor tools).
setup: $(STAMP)
setup-test: $(TEST_STAMP)

$(STAMP): pyproject.toml $(VENV)
	$(PYTHON) -m pip install --disable-pip-version-check -q -e .
	@mkdir -p $(@D) && touch $@

$(TEST_STAMP): $(STAMP)
	$(PYTHON) -m pip install --disable-pip-version-check -q -e '.[test]'
	@mkdir -p $(@D) && touch $@

# Ray, for `--backend ray` (.ci/run installs it for the Ray backend's test).
setup-cluster: $(CLUSTER_STAMP)

$(CLUSTER_STAMP): $(STAMP)
	$(PYTHON) -m pip install --disable-pip-version-check -q -e '.[cluster]'
	@mkdir -p $(@D) && touch $@

.venv/pyvenv.cfg:
	$(BASE_PYTHON) tools/project_venv.py --create

data: setup
	$(PYTHON) -m mnist_kit data

lab: setup
	$(PYTHON) -m mnist_kit lab

test: setup-test
	$(PYTHON) -m mnist_kit test

# What Binder's repo2docker does with binder/, as far as this machine allows: a fresh venv, binder/requirements.txt,
# binder/postBuild, one lesson in smoke mode (tests/test_binder.py; some minutes, so not part of `make test`).
binder-test: setup-test
	$(PYTHON) -m pytest -m binder tests/test_binder.py

# The course website in _build/html/ (mnist_kit/site.py): lessons, solutions, README and docs/, offline, from the
# committed notebooks with their outputs (never executed).
book: setup-test
	$(PYTHON) -m mnist_kit.site

# The tests that build a fresh environment (minutes, gigabytes: torch afresh), left out of `make test`.
test-fresh-env: setup-test
	$(PYTHON) -m pytest -m fresh_env tests

# After a notebook changes: its volatile metadata out, its text pair rewritten (tools/sync_notebooks.py).
pair: setup-test
	$(PYTHON) tools/sync_notebooks.py

# tools/run_notebooks.py needs the notebook tools of the test extra.
reproduce: setup-test

lint: setup-test
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

# Grading a class (docs/INSTRUCTOR.md): the students' copy in release/ (the lessons without their solutions, and the
# assignment with solutions and hidden tests removed by nbgrader); then, with the hand-ins in
# assignment/submitted/<student>/cnn_budget/, nbgrader's autograde and the gradebook in assignment/grades.csv.
release: setup-test
	cd assignment && $(PYTHON) -m nbgrader generate_assignment cnn_budget --force
	$(PYTHON) tools/release.py release

autograde: setup-test
	cd assignment && $(PYTHON) -m nbgrader autograde cnn_budget --create --force
	cd assignment && PYTHONPATH=.$${PYTHONPATH:+:$$PYTHONPATH} $(PYTHON) -m nbgrader export --to grades.csv

clean:
	rm -rf .make .pytest_cache .ruff_cache _build

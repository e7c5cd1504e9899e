# The two commands a course user needs (see README):
#   make lab    set up packages and MNIST, then open the notebooks in JupyterLab
#   make test   set up packages and MNIST, then run the whole test suite (notebooks included)
# Packages go into the active Python environment (a venv or conda env you activated): no new
# multi-gigabyte environment per clone. PYTHON=... picks another interpreter.
PYTHON ?= python3
STAMP := .make/installed

.PHONY: setup data lab test train sweep reproduce report benchmark clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m pip install --disable-pip-version-check -q -e '.[test]'
	@mkdir -p $(@D) && touch $@

data: setup
	$(PYTHON) -m mnist_kit data

lab: data
	$(PYTHON) -m jupyter lab notebooks/

test: data
	$(PYTHON) -m pytest --nbval-lax
	$(PYTHON) -m mnist_kit report --check

train: data
	$(PYTHON) -m mnist_kit train model_4

sweep: data
	$(PYTHON) -m mnist_kit sweep model_4 --seeds 1 2 3

# The instructor's command: every notebook at full length, in place (each writes results/<recipe>.json),
# the Model_4 seed sweep, then the README tables regenerated from the records.
reproduce: data
	MNIST_KIT_FULL=1 $(PYTHON) tools/run_notebooks.py notebooks/0*.ipynb
	$(PYTHON) -m mnist_kit sweep model_4 --seeds 1 2 3
	$(PYTHON) -m mnist_kit report

report: setup
	$(PYTHON) -m mnist_kit report

benchmark: data
	$(PYTHON) benchmarks/epoch_speed.py
	$(PYTHON) -m mnist_kit report

clean:
	rm -rf .make .pytest_cache

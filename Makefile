# The two commands a course user needs (see README):
#   make lab    set up packages and MNIST, then open the notebooks in JupyterLab
#   make test   set up packages and MNIST, then run the whole test suite (notebooks included)
# Packages go into the active Python environment (a venv or conda env you activated): no new
# multi-gigabyte environment per clone. PYTHON=... picks another interpreter.
PYTHON ?= python3
STAMP := .make/installed

.PHONY: setup data lab test train reproduce clean

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

train: data
	$(PYTHON) -m mnist_kit train model_4

clean:
	rm -rf .make .pytest_cache

# Two commands: `make book` builds the website, `make test` runs every check.
# Both create the environment in .venv first (from requirements.txt) if it is missing or stale.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: book test lint format lab env clean

$(STAMP): requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

env: $(STAMP)  ## create .venv with everything the book and the tests need

book: $(STAMP)  ## build the website into _build/html (warnings are errors)
	$(BIN)/jupyter-book build . -W -n --keep-going

lint: $(STAMP)  ## ruff: lint and format check
	$(BIN)/ruff check src tests
	$(BIN)/ruff format --check src tests

format: $(STAMP)  ## ruff: fix what can be fixed and reformat
	$(BIN)/ruff check --fix src tests
	$(BIN)/ruff format src tests

test: lint book  ## every check: lint, the book build, unit tests, notebooks (nbval, strict)
	$(BIN)/python -m pytest --nbval --nbval-current-env

lab: $(STAMP)  ## open the notebooks in JupyterLab, from the project's environment
	$(BIN)/jupyter lab notebooks/

clean:
	rm -rf _build

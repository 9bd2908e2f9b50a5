# Two commands: `make book` builds the website, `make test` runs every check.
# Both create the environment in .venv first (from requirements.txt) if it is missing or stale.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: book test lint format lab lab-full learner env clean

$(STAMP): requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

env: $(STAMP)  ## create .venv with everything the book and the tests need

book: $(STAMP)  ## build the website into _build/html (warnings are errors)
	$(BIN)/jupyter-book build . -W -n --keep-going

lint: $(STAMP)  ## ruff: lint and format check
	$(BIN)/ruff check src tests tools book/_ext
	$(BIN)/ruff format --check src tests tools book/_ext

format: $(STAMP)  ## ruff: fix what can be fixed and reformat
	$(BIN)/ruff check --fix src tests tools book/_ext
	$(BIN)/ruff format src tests tools book/_ext

test: lint book  ## every check: lint, the book build, unit tests, notebooks (nbval, strict), the site in Chromium
	$(BIN)/python -m pytest --nbval --nbval-current-env

lab: $(STAMP)  ## open the learner copies in JupyterLab (made by `make learner` if missing; your answers are kept)
	test -d _build/learner/notebooks || $(MAKE) learner
	$(BIN)/jupyter lab _build/learner/notebooks/

lab-full: $(STAMP)  ## open the full chapters (solutions, outputs) in JupyterLab
	$(BIN)/jupyter lab notebooks/

learner: $(STAMP)  ## (re)make the learner copies in _build/learner/: no solutions, no outputs, a cell per exercise
	$(BIN)/python tools/learner.py notebooks _build/learner --data book/data --bib book/references.bib

clean:
	rm -rf _build

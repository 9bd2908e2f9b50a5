# Two commands: `make book` builds the website, `make test` runs every check.
# Both create the environment in .venv first (from requirements.txt) if it is missing or stale.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: book test lint format lab lab-full learner env clean wheelhouse slides pdf native

$(STAMP): requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

env: $(STAMP)  ## create .venv with everything the book and the tests need

native: $(STAMP)  ## build the native CPU kernel for this machine (cached in _build/native/; without a compiler: a warning)
	$(BIN)/python -m convtranspose.cpu.build

book: $(STAMP) native  ## build the website into _build/html (warnings are errors)
	$(BIN)/jupyter-book build . -W -n --keep-going

lint: $(STAMP)  ## ruff: lint and format check
	$(BIN)/ruff check src tests tools book/_ext slides
	$(BIN)/ruff format --check src tests tools book/_ext slides

format: $(STAMP)  ## ruff: fix what can be fixed and reformat
	$(BIN)/ruff check --fix src tests tools book/_ext slides
	$(BIN)/ruff format src tests tools book/_ext slides

test: lint native book  ## every check: lint, the book build, unit tests, notebooks (nbval, strict), the site in Chromium
	$(BIN)/python -m pytest --nbval --nbval-current-env

lab: $(STAMP) native  ## open the learner copies in JupyterLab (made by `make learner` if missing; your answers are kept)
	test -d _build/learner/notebooks || $(MAKE) learner
	$(BIN)/jupyter lab _build/learner/notebooks/

lab-full: $(STAMP) native  ## open the full chapters (solutions, outputs) in JupyterLab
	$(BIN)/jupyter lab notebooks/

learner: $(STAMP)  ## (re)make the learner copies in _build/learner/: no solutions, no outputs, a cell per exercise
	$(BIN)/python tools/learner.py notebooks _build/learner --data book/data --bib book/references.bib

slides: $(STAMP)  ## the workshop's decks, one per session (reveal.js, offline), in _build/slides/
	$(BIN)/python -m sphinx -b revealjs -W -n -q slides _build/slides
	@echo "slides: open _build/slides/index.html (speaker notes: S)"

pdf: book  ## the whole book as one PDF (from the website, headless Chromium, offline): _build/pdf/transposed-convolution.pdf
	$(BIN)/python tools/book_pdf.py --site _build/html --out _build/pdf/transposed-convolution.pdf

# The learners' wheels for a room without internet (see book/workshop.md), e.g.
# make wheelhouse WHEEL_PLATFORMS="linux-x86_64 macos-arm64 windows-x86_64" WHEEL_PYTHONS="3.11 3.12"
WHEEL_PLATFORMS ?= linux-x86_64
WHEEL_PYTHONS ?= 3.11
wheelhouse: $(STAMP)  ## every wheel of requirements-learner.txt, offline install, in _build/wheelhouse/
	$(BIN)/python tools/wheelhouse.py _build/wheelhouse $(foreach p,$(WHEEL_PLATFORMS),--platform $(p)) $(foreach v,$(WHEEL_PYTHONS),--python $(v))

clean:
	rm -rf _build

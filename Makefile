# The README's two commands are `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
export HF_HUB_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false

.PHONY: install model dictionaries fetch index run search test test-all lint format bench clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

model: install  ## convert the bundled multilingual-e5-small once
	$(PY) -m ingest prepare-model

index: model  ## build or update index/ from corpus/ (exit 1 = some files skipped)
	$(PY) -m ingest; rc=$$?; [ $$rc -le 1 ]

dictionaries:  ## FreeDict en-fi, en-sv, fi-sv, sv-fi for the lexical bridge (Debian, needs root)
	$(if $(filter 0,$(shell id -u)),,sudo) apt-get install -y --no-install-recommends \
	    dict-freedict-eng-fin dict-freedict-eng-swe dict-freedict-fin-swe dict-freedict-swe-fin

fetch: install  ## download the official PDFs into corpus/official (the only network step)
	$(PY) -m ingest fetch

run: install  ## set up, fetch what it can, build the index, show an example search, start the app
	$(PY) -m ingest fetch --retries 1 || echo "fetch incomplete (see above): indexing what is in corpus/"
	$(MAKE) --no-print-directory index
	$(PY) -m search -k 3 "Mikä on innovaatiokumppanuus?"
	$(PY) -m streamlit run app.py --server.address "$${KB_SERVE_ADDRESS:-127.0.0.1}" \
		--server.maxUploadSize "$${KB_MAX_FILE_MB:-200}"  # docs/deploying.md

search: index  ## only the example search, without starting the app
	$(PY) -m search -k 5 "Mikä on innovaatiokumppanuus?"

lint: install
	$(PY) -m ruff check app.py kb ingest search webapp evaluation tests testsupport benchmarks

format: install
	$(PY) -m ruff format app.py kb ingest search webapp evaluation tests testsupport benchmarks

# Two lanes (docs/first-run.md). Each test module's name shows as it starts;
# the slowest tests are listed at the end.
SECOND_LANE := slow or browser or quality or kill or postgres

test: model lint  ## the fast lane, offline: all but the slow, browser, quality, kill and PostgreSQL tests
	$(PY) -m pytest --durations=10

test-all: test  ## both lanes: then the slow, browser, model-quality, kill and PostgreSQL tests
	$(PY) -m pytest -m "$(SECOND_LANE)" --durations=10

bench: model  ## all benchmarks; figures go to benchmarks/results/ and the README
	$(VENV)/bin/pip install --quiet -e '.[dev,bench]'
	$(PY) benchmarks/ingest.py
	$(PY) benchmarks/query.py
	$(PY) benchmarks/app.py
	$(PY) benchmarks/tatoeba.py

clean:
	rm -rf $(VENV) .cache index/gen-* index/CURRENT

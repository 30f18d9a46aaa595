# The two commands: `make run` (the whole system on local defaults) and `make test` (every test).
# Everything else is a smaller piece of those. See README.md.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV    := .venv
PY      := $(VENV)/bin/python
RASA    := $(VENV)/bin/rasa
export TF_CPP_MIN_LOG_LEVEL ?= 2
# Rasa sends usage data to the internet unless told not to; nothing here leaves the machine.
export RASA_TELEMETRY_ENABLED ?= false
export ACTION_PORT ?= 5055
export RASA_PORT ?= 5005
export PYTHONWARNINGS ?= ignore
export SQLALCHEMY_SILENCE_UBER_WARNING ?= 1

.PHONY: help setup train run shell stories validate test pytest nlu-report nlu-dev bench standin call clean

help:
	@echo "make run       set up, train if needed, start Rent Manager stand-in + action server + Rasa"
	@echo "make test      set up, then every check: data validation, pytest, training, test stories, NLU report"
	@echo "make shell     talk to the assistant in the terminal (CALLER=+17185550134 or CALLER=prospect)"
	@echo "make stories   run only the Rasa test stories (QA)"
	@echo "make validate  run only the training-data checks (designers)"
	@echo "make nlu-dev   NLU figures and misses on the dev sets, to tune on (designers)"
	@echo "make bench     print the latency benchmarks"
	@echo "make standin   run only the Rent Manager stand-in"
	@echo "make call      a simulated phone call against a running stack (SCENARIO=scenarios/x.yml)"

# -- set-up: a .venv on Python 3.10 with the exact pinned packages -------------------------
$(VENV)/.installed: requirements.txt requirements.lock scripts/find_python.sh
	@set -e; if [ ! -x $(PY) ]; then \
	  py=$$(scripts/find_python.sh); echo "setup: creating $(VENV) with $$py"; "$$py" -m venv $(VENV); fi
	@$(PY) -c 'import sys; assert sys.version_info[:2] == (3, 10), "$(VENV) is not Python 3.10: rm -rf $(VENV) and run make again"'
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt -c requirements.lock
	@touch $@

setup: $(VENV)/.installed .state/spacy_blank_en/meta.json

# A blank English spaCy pipeline on disk (tokenizer only): no model is ever downloaded.
.state/spacy_blank_en/meta.json: $(VENV)/.installed
	@mkdir -p .state
	$(PY) -c 'import spacy; spacy.blank("en").to_disk(".state/spacy_blank_en")'

# rasa train keeps the newest model when data, config and domain are unchanged (its fingerprint).
train: setup
	$(RASA) train --quiet --num-threads 1

run: train
	$(PY) -m stack

shell: train
	$(PY) -m stack --shell --caller "$(or $(CALLER),+17185550134)"

# Responses spoken by custom actions are "not used in any story" to Rasa's validator; that
# warning is filtered out here (tests/test_domain.py checks every response is used).
validate: setup
	@set -o pipefail; $(RASA) data validate --fail-on-warnings 2>&1 | grep -v -e "is not used in any story or rule" -e "^\s*$$"

stories: setup
	$(RASA) test core --stories tests/ --fail-on-prediction-errors --out results/core

pytest: setup
	$(PY) -m pytest -q

nlu-report: setup
	$(PY) -m tests.nlu_report

# The same report on the dev sets: what designers tune on (the held-out files stay an exam).
nlu-dev: setup
	$(PY) -m tests.nlu_report --data $(sort $(wildcard tests/nlu/dev*.yml))

# Training comes before pytest: the end-to-end tests talk to the trained assistant.
test: setup
	$(MAKE) --no-print-directory validate
	$(MAKE) --no-print-directory train
	$(MAKE) --no-print-directory pytest
	$(MAKE) --no-print-directory stories
	$(MAKE) --no-print-directory nlu-report

bench: train
	$(PY) -m bench.rentmanager
	$(PY) -m bench.turns
	$(PY) -m bench.calls
	$(PY) -m bench.llm

standin: setup
	$(PY) -m standins.rentmanager

# A phone call played against `make run` (another terminal): interactive, or a scenario
# file whose expectations make it exit non-zero when they fail.
call: setup
	$(PY) -m simulator --rasa-url http://127.0.0.1:$(RASA_PORT) $(if $(SCENARIO),--scenario $(SCENARIO),)

clean:
	rm -rf results .pytest_cache .state/outbox.sqlite3*

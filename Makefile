# The two commands in README.md. Both set everything up first (idempotent, fast when done).
.PHONY: setup demo test bench
VENV ?= .venv
export OPEN_JTALK_DICT_DIR ?= /var/lib/mecab/dic/open-jtalk/naist-jdic

setup:
	@bash scripts/setup.sh

demo: setup
	$(VENV)/bin/gsv demo

test: setup
	$(VENV)/bin/python -m pytest -q -p no:cacheprovider --durations=15 $(PYTEST_ARGS)

bench: setup
	$(VENV)/bin/python -m bench

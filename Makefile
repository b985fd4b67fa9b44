# Two set-up commands (see README): `make app` runs the chat app, `make test` runs the tests.
VENV ?= .venv
PY := $(VENV)/bin/python

$(PY):
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip

.PHONY: install test-install app test browser-deps screenshot
install: $(PY)
	$(PY) -m pip install -q -e ".[app]"

test-install: $(PY)  # the tests also run the Milvus store and OCR: the [milvus] and [ocr] extras
	$(PY) -m pip install -q -e ".[app,test,milvus,ocr]"

app: install
	$(PY) app.py

browser-deps:
	@command -v chromium >/dev/null && fc-list | grep -qi "noto.*cjk" || \
	  (apt-get update -qq && apt-get install -y -qq chromium fonts-noto-cjk >/dev/null)

test: test-install browser-deps
	$(PY) -m pytest -q

screenshot: test-install browser-deps  # refreshes docs/screenshot.png (tests write theirs to a temporary folder)
	SCREENSHOT_DIR=docs $(PY) -m pytest -q tests/e2e/test_app.py -k browser

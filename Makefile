# Sentiment Studio: `make run` starts the app, `make test` runs every test, `make bench` the benchmarks.
# The virtual environment is created on first use; pip runs again only when a requirements file changes,
# tracked by the stamp files below.

PYTHON ?= python3
VENV := .venv
VENV_PYTHON := $(VENV)/bin/python
RUN_STAMP := $(VENV)/.installed-run
DEV_STAMP := $(VENV)/.installed-dev

.PHONY: run test bench sample-vectors clean distclean

# Who can reach the app: only this machine by default, so nobody on the network shares its one model shelf.
# `make run ADDRESS=0.0.0.0` serves other hosts, and then public mode is on (each visitor sees only their own models,
# core/limits.py bounds every run) unless STUDIO_PUBLIC_MODE=0 is set. Community Cloud runs streamlit itself and
# listens on every interface. Uploads: 200 MB on this machine; 20 MB when serving others (the config.toml value).
ADDRESS ?= localhost
LOCAL_ADDRESSES := localhost 127.0.0.1 ::1
SERVES_OTHERS = $(if $(filter $(LOCAL_ADDRESSES),$(ADDRESS)),,yes)

run: $(RUN_STAMP)
	$(if $(SERVES_OTHERS),STUDIO_PUBLIC_MODE=$${STUDIO_PUBLIC_MODE:-1} )$(VENV)/bin/streamlit run app.py \
		--server.address $(ADDRESS)$(if $(SERVES_OTHERS),, --server.maxUploadSize 200)

test: $(DEV_STAMP)
	$(VENV_PYTHON) -m pytest

# Every bench/*.py script in its quick mode; files starting with "_" are shared helpers, not benchmarks.
bench: $(DEV_STAMP)
	@set -e; for script in bench/*.py; do \
		[ -e "$$script" ] || continue; \
		case "$$(basename "$$script")" in _*) continue ;; esac; \
		echo "== $$script --quick"; \
		$(VENV_PYTHON) "$$script" --quick; \
	done

# The sample's sentence-encoder vectors, shipped in data/ so the sample trains `transfer` at once; rerun it after
# changing the sample files or the encoder version (tests/test_encoder.py checks the bundle is current).
sample-vectors: $(RUN_STAMP)
	$(VENV_PYTHON) -c "from core.samples import write_sample_vectors; print(write_sample_vectors())"

$(VENV_PYTHON):
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "Sentiment Studio needs Python 3.11 or newer; set PYTHON=/path/to/python3.11" >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)

$(RUN_STAMP): requirements.txt | $(VENV_PYTHON)
	$(VENV_PYTHON) -m pip install --disable-pip-version-check -r requirements.txt
	touch $@

# requirements-dev.txt includes requirements.txt, so a change to either reinstalls.
$(DEV_STAMP): requirements-dev.txt requirements.txt | $(VENV_PYTHON)
	$(VENV_PYTHON) -m pip install --disable-pip-version-check -r requirements-dev.txt
	touch $@

# Generated files only: trained models in models/ and the virtual environment are kept.
clean:
	rm -rf artifacts bench/out .pytest_cache .hypothesis
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV)

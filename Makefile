# Consent Registry: the front door. `make help` lists the targets.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)
export REGISTRY_PORT ?= 8000
export REGISTRY_ISSUER ?= http://127.0.0.1:$(REGISTRY_PORT)

.DEFAULT_GOAL := help
.PHONY: help install browser media-tools proxy run test lint openapi bench clean
.PHONY: mutation

help: ## Show this help
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  \033[36m%-10s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(STAMP): pyproject.toml
	$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "Python >= 3.11 required"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	rm -f $(VENV)/.installed-*
	touch $@

install: $(STAMP) ## Create .venv and install the service with its dev tools

# The webhook worker runs beside gunicorn; Ctrl-C (or gunicorn exiting) stops both. A shell
# without job control starts background jobs ignoring SIGINT, so the trap sends the worker
# SIGTERM (it finishes the deliveries under way) and waits for it.
# Logs are readable text here (REGISTRY_LOG_FORMAT=json for production's JSON lines); gunicorn
# and the worker write their metrics to var/metrics, emptied first, which /metrics adds up.
run: $(STAMP) media-tools ## Migrate, create dev keys and a demo client, serve on 127.0.0.1:$REGISTRY_PORT with the webhook worker
	$(BIN)/registry db upgrade
	$(BIN)/registry keys init
	$(BIN)/registry demo
	@export REGISTRY_LOG_FORMAT=$${REGISTRY_LOG_FORMAT:-text}; \
	export PROMETHEUS_MULTIPROC_DIR=$${PROMETHEUS_MULTIPROC_DIR:-$(CURDIR)/var/metrics}; \
	rm -rf "$$PROMETHEUS_MULTIPROC_DIR" && mkdir -p "$$PROMETHEUS_MULTIPROC_DIR"; \
	$(BIN)/registry worker & worker=$$!; \
	trap 'kill -TERM $$worker 2>/dev/null; wait $$worker' EXIT INT TERM; \
	$(BIN)/gunicorn -c infra/gunicorn.conf.py registry.wsgi:app

browser: ## Install Debian's headless Chromium + chromedriver for the /verify page tests
	@if command -v chromium >/dev/null && command -v chromedriver >/dev/null; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "installing chromium and chromium-driver (apt-get)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null; \
	else \
	  echo "The browser tests need Chromium: sudo apt-get install chromium chromium-driver"; exit 1; \
	fi

# Provenance (registry/provenance): Chromaprint for audio fingerprints (pyacoustid loads
# libchromaprint.so.1), libGL and GLib for OpenCV (blind-watermark), espeak-ng for the speech
# in benchmarks/fingerprint_quality.py. Nothing is downloaded at run time.
MEDIA_LIBS := libchromaprint.so.1 libGL.so.1 libgthread-2.0.so.0
media-tools: ## Install Debian's libchromaprint, espeak-ng, libGL and GLib (fingerprints, watermark)
	@missing=0; for lib in $(MEDIA_LIBS); do ldconfig -p | grep -q "$$lib " || missing=1; done; \
	command -v espeak-ng >/dev/null || missing=1; \
	if [ $$missing = 0 ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "installing libchromaprint1, espeak-ng, libgl1 and libglib2.0-0 (apt-get)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
	    libchromaprint1 espeak-ng libgl1 libglib2.0-0 >/dev/null; \
	else \
	  echo "Provenance needs: sudo apt-get install libchromaprint1 espeak-ng libgl1 libglib2.0-0"; exit 1; \
	fi

# The production topology's proxy, for the test that runs gunicorn behind it (tests/ops).
proxy: ## Install Debian's nginx-light (the buffering proxy of docs/deployment.md)
	@if command -v nginx >/dev/null || [ -x /usr/sbin/nginx ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "installing nginx-light (apt-get)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
	    nginx-light >/dev/null; \
	else \
	  echo "The proxy test needs nginx: sudo apt-get install nginx-light"; exit 1; \
	fi

test: $(STAMP) browser media-tools proxy ## Run the whole suite (also on PostgreSQL when REGISTRY_TEST_DATABASE_URL is set)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# infra/ is checked statically (no container engine here): hadolint for the Containerfile,
# yamllint, and the Kubernetes manifests against Kubernetes' own schemas (bundled with
# kubernetes-validate: nothing is downloaded).
K8S_VERSION ?= 1.30.0
K8S_MANIFESTS := $(filter-out infra/k8s/kustomization.yaml,$(wildcard infra/k8s/*.yaml))
lint: $(STAMP) ## ruff, mypy, and the infra files (hadolint, yamllint, Kubernetes schemas)
	$(BIN)/ruff check registry tests benchmarks migrations infra
	$(BIN)/mypy registry
	$(BIN)/hadolint infra/Containerfile
	$(BIN)/yamllint -c infra/yamllint.yaml infra
	$(BIN)/kubernetes-validate --strict --quiet -k $(K8S_VERSION) $(K8S_MANIFESTS)

openapi: $(STAMP) ## Regenerate openapi/openapi.json from the code
	$(BIN)/python -m registry.openapi openapi/openapi.json

bench: $(STAMP) media-tools ## Run the benchmarks (they print figures; see benchmarks/README.md)
	-$(BIN)/python benchmarks/grant_status.py
	-$(BIN)/python benchmarks/sign_throughput.py
	-$(BIN)/python benchmarks/verify_throughput.py
	-$(BIN)/python benchmarks/fingerprint_quality.py
	-$(BIN)/python benchmarks/fingerprint_lookup.py
	-$(BIN)/python benchmarks/webhooks.py
	-$(BIN)/python benchmarks/instrumentation.py

# A fresh copy each run: mutmut keeps results in mutants/ and would not retest old survivors.
# With REGISTRY_TEST_DATABASE_URL set the database tests also run on PostgreSQL, which alone
# can tell its row and advisory locks apart (SQLite survivors there are not equivalents).
MUTATION_TREE ?= $(or $(TMPDIR),/tmp)/consent-registry-mutation
mutation: $(STAMP) ## Mutation scores of the rule modules (a measurement; see tests/mutation_score.py)
	@mkdir -p $(MUTATION_TREE)
	rsync -a --delete --exclude __pycache__ registry tests migrations pyproject.toml $(MUTATION_TREE)/
	rm -rf $(MUTATION_TREE)/mutants
	@echo "mutmut run in $(MUTATION_TREE) (log: $(MUTATION_TREE)/mutmut.log)"
	@start=$$(date +%s); \
	cd $(MUTATION_TREE) && $(CURDIR)/$(BIN)/mutmut run $(MUTMUT_ARGS) >mutmut.log 2>&1 \
	  || { tail -n 40 mutmut.log; exit 1; }; \
	echo "mutmut took $$(( $$(date +%s) - start )) s"
	cd $(MUTATION_TREE) && $(CURDIR)/$(BIN)/python tests/mutation_score.py $(SCORE_ARGS)
	@echo "survivors: cd $(MUTATION_TREE) && $(CURDIR)/$(BIN)/mutmut show <name> (or: mutmut browse)"

clean: ## Remove the virtualenv and local data
	rm -rf $(VENV) var .pytest_cache

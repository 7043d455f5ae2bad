# Case file audit: `make run` to try it, `make test` to check it.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TEST_POSTGRES_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test
PYTEST_ARGS ?=
# Tests run in parallel (pytest-xdist): one process per core; the browser journeys share a live server per group.
PYTEST_WORKERS ?= 2
PYTEST := $(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist loadgroup

# uv installs exactly what uv.lock pins. It is itself pinned and kept in .uv/ (nothing installed system-wide).
UV_VERSION := 0.13.9
UV := .uv/bin/uv
export UV_PROJECT_ENVIRONMENT := $(VENV)
export UV_PYTHON := $(PYTHON)
# Bytecode is written once at install and on import, so every test process does not compile the app again.
unexport PYTHONDONTWRITEBYTECODE

# Pinned front-end assets, vendored into the repository by `make assets` (needs npm; `make run` does not).
GOVUK_FRONTEND_VERSION := 6.3.0
HTMX_VERSION := 2.0.11
AXE_CORE_VERSION := 4.11.4
SWAGGER_UI_VERSION := 5.32.0
VENDOR := app/static/vendor

.PHONY: install lock lint run test test-sqlite test-postgres security bench assets clean

install: $(STAMP)

$(UV):
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed")'
	$(PYTHON) -m venv .uv
	.uv/bin/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

# The app with its test and lint tools, exactly as locked (fails if uv.lock does not match pyproject.toml).
$(STAMP): pyproject.toml uv.lock | $(UV)
	$(UV) sync --locked --compile-bytecode --quiet
	touch $(STAMP)

# The OpenID provider the sign-in tests start (tests/oidc: oidc-provider under Node.js), exactly as its
# package-lock.json pins it. Skipped where node and npm are missing (the tests skip then; in CI they fail).
OIDC_DIR := tests/oidc
OIDC_STAMP := $(OIDC_DIR)/node_modules/.installed
ifneq ($(and $(wildcard $(OIDC_DIR)/package-lock.json),$(shell command -v node),$(shell command -v npm)),)
install: $(OIDC_STAMP)
endif

$(OIDC_STAMP): $(OIDC_DIR)/package.json $(OIDC_DIR)/package-lock.json
	npm ci --prefix $(OIDC_DIR) --no-audit --no-fund --loglevel=error >/dev/null
	touch $(OIDC_STAMP)

# Update uv.lock on purpose (newest versions the ranges in pyproject.toml allow), then `make test` and commit it.
# One package only: make lock LOCK_ARGS="--upgrade-package fastapi".
LOCK_ARGS ?= --upgrade
lock: | $(UV)
	$(UV) lock $(LOCK_ARGS)

lint: install
	$(BIN)/ruff check app tests bench migrations
	$(BIN)/ruff format --check app tests bench migrations
	$(BIN)/mypy

run: install
	$(BIN)/caseaudit db upgrade
	$(BIN)/caseaudit templates publish
	$(BIN)/caseaudit demo-data --if-empty
	$(BIN)/caseaudit serve --host 127.0.0.1 --port 8000

test: install test-sqlite test-postgres

test-sqlite: install
	$(PYTEST) $(PYTEST_ARGS)

# Runs when PostgreSQL answers; in CI (CI=true) it must.
test-postgres: install
	TEST_DATABASE_URL=$(TEST_POSTGRES_URL) $(PYTEST) --postgres $(PYTEST_ARGS)

# Fuzz every API operation and HTML form with schemathesis on PostgreSQL for SECURITY_SECONDS; fails on any 5xx.
SECURITY_SECONDS ?= 120
security: install
	LOG_LEVEL=WARNING SECURITY_SECONDS=$(SECURITY_SECONDS) TEST_DATABASE_URL=$(TEST_POSTGRES_URL) $(BIN)/python -m tests.security_fuzz

bench: install
	@ls bench/*.py >/dev/null 2>&1 && for b in bench/*.py; do $(BIN)/python $$b || exit 1; done || echo "No benchmarks yet."

assets:
	rm -rf .assets-tmp && mkdir -p .assets-tmp
	cd .assets-tmp && npm pack --silent govuk-frontend@$(GOVUK_FRONTEND_VERSION) htmx.org@$(HTMX_VERSION) \
		axe-core@$(AXE_CORE_VERSION) swagger-ui-dist@$(SWAGGER_UI_VERSION) >/dev/null
	cd .assets-tmp && for f in *.tgz; do mkdir -p "$${f%.tgz}" && tar xzf "$$f" -C "$${f%.tgz}"; done
	rm -rf $(VENDOR) && mkdir -p $(VENDOR)/govuk-frontend $(VENDOR)/htmx $(VENDOR)/swagger-ui tests/browser/vendor
	cp .assets-tmp/govuk-frontend-$(GOVUK_FRONTEND_VERSION)/package/dist/govuk/govuk-frontend.min.css \
	   .assets-tmp/govuk-frontend-$(GOVUK_FRONTEND_VERSION)/package/dist/govuk/govuk-frontend.min.js $(VENDOR)/govuk-frontend/
	cp -r .assets-tmp/govuk-frontend-$(GOVUK_FRONTEND_VERSION)/package/dist/govuk/assets $(VENDOR)/govuk-frontend/
	cp .assets-tmp/govuk-frontend-$(GOVUK_FRONTEND_VERSION)/package/LICENSE.txt $(VENDOR)/govuk-frontend/ 2>/dev/null || true
	cp .assets-tmp/htmx.org-$(HTMX_VERSION)/package/dist/htmx.min.js .assets-tmp/htmx.org-$(HTMX_VERSION)/package/LICENSE $(VENDOR)/htmx/
	cp .assets-tmp/swagger-ui-dist-$(SWAGGER_UI_VERSION)/package/swagger-ui-bundle.js \
	   .assets-tmp/swagger-ui-dist-$(SWAGGER_UI_VERSION)/package/swagger-ui.css \
	   .assets-tmp/swagger-ui-dist-$(SWAGGER_UI_VERSION)/package/LICENSE $(VENDOR)/swagger-ui/
	cp .assets-tmp/axe-core-$(AXE_CORE_VERSION)/package/axe.min.js .assets-tmp/axe-core-$(AXE_CORE_VERSION)/package/LICENSE tests/browser/vendor/
	printf 'govuk-frontend %s\nhtmx.org %s\nswagger-ui-dist %s\naxe-core %s (tests/browser/vendor)\n' \
		$(GOVUK_FRONTEND_VERSION) $(HTMX_VERSION) $(SWAGGER_UI_VERSION) $(AXE_CORE_VERSION) > $(VENDOR)/VERSIONS
	rm -rf .assets-tmp

clean:
	rm -rf $(VENV) .uv .pytest_cache .ruff_cache .mypy_cache

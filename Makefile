# Case file audit: `make run` to try it, `make test` to check it.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TEST_POSTGRES_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test
PYTEST_ARGS ?=

# Pinned front-end assets, vendored into the repository by `make assets` (needs npm; `make run` does not).
GOVUK_FRONTEND_VERSION := 6.3.0
HTMX_VERSION := 2.0.11
AXE_CORE_VERSION := 4.11.4
SWAGGER_UI_VERSION := 5.32.0
VENDOR := app/static/vendor

.PHONY: install run test test-sqlite test-postgres bench assets clean

install: $(STAMP)

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

run: install
	$(BIN)/caseaudit db upgrade
	$(BIN)/caseaudit templates publish
	$(BIN)/caseaudit demo-data --if-empty
	$(BIN)/caseaudit serve --host 127.0.0.1 --port 8000

test: install test-sqlite test-postgres

test-sqlite: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Runs when PostgreSQL answers; in CI (CI=true) it must.
test-postgres: install
	TEST_DATABASE_URL=$(TEST_POSTGRES_URL) $(BIN)/python -m pytest --postgres $(PYTEST_ARGS)

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
	rm -rf $(VENV) .pytest_cache

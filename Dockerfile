# Case file audit: the same app as `make run`, for production behind a TLS-terminating load balancer.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    ENVIRONMENT=production

# Pango, HarfBuzz and a font for WeasyPrint (the printable audit as PDF).
RUN apt-get update && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 \
        fonts-dejavu-core && rm -rf /var/lib/apt/lists/*
RUN useradd --create-home --uid 10001 caseaudit
WORKDIR /srv/caseaudit

# Exactly the versions in uv.lock (what CI tested), without the test and lint tools. Dependencies first, so
# code changes do not reinstall them.
ENV UV_PROJECT_ENVIRONMENT=/srv/caseaudit/.venv \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    PATH=/srv/caseaudit/.venv/bin:$PATH
RUN pip install uv==0.13.9
COPY pyproject.toml uv.lock README.md ./
RUN uv sync --locked --no-dev --no-install-project

COPY app ./app
COPY migrations ./migrations
COPY templates ./templates
COPY audit_templates ./audit_templates
COPY alembic.ini ./
RUN uv sync --locked --no-dev && mkdir -p var /srv/checkpoints && chown caseaudit var /srv/checkpoints

USER caseaudit
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --retries=3 \
    CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz').status != 200)"

# Migrations run on start (several replicas may start together: PostgreSQL serialises them
# with an advisory lock), then the app serves. No state is kept in the container.
CMD ["sh", "-c", "caseaudit db upgrade && caseaudit templates publish && exec caseaudit serve --host 0.0.0.0 --port 8000 --workers ${WEB_CONCURRENCY:-2} --proxy-headers"]

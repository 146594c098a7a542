# The Hotline service: `hotline serve` (the API and console), `hotline worker`, `hotline migrate` from one image.
#
#   docker build -t hotline .
#   docker run --env-file hotline.env -p 8000:8000 hotline serve
#
# BASE is any Debian-like image with python3 (3.11) and its venv module: python:3.11-slim by default; the slow test
# (tests/slow/test_container_image.py) builds FROM a Debian made locally with debootstrap, no registry being
# reachable there. No secret is in the image: HOTLINE_SECRET_KEY, HOTLINE_DATABASE_URL, ... come from the
# environment the container is started with (compose.yaml, --env-file).
ARG BASE=python:3.11-slim
FROM ${BASE}

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PATH=/opt/hotline/bin:$PATH \
    HOTLINE_HOST=0.0.0.0 \
    HOTLINE_PORT=8000

# The locked runtime dependencies first (a layer of their own, rebuilt only when the lock changes): every package
# pinned with its hashes, pip refuses anything else. Then the project itself, without resolving anything again.
# pip itself comes from requirements-pip.txt, hashed too (the one a fresh venv has refuses the lock).
COPY requirements-pip.txt requirements.txt /tmp/
RUN python3 -m venv /opt/hotline \
    && /opt/hotline/bin/pip install -q --require-hashes -r /tmp/requirements-pip.txt \
    && /opt/hotline/bin/pip install -q --require-hashes -r /tmp/requirements.txt \
    && rm /tmp/requirements-pip.txt /tmp/requirements.txt
COPY pyproject.toml README.md /tmp/src/
COPY hotline /tmp/src/hotline
COPY sla /tmp/src/sla
COPY workers /tmp/src/workers
COPY config /tmp/src/config
RUN /opt/hotline/bin/pip install -q --no-deps /tmp/src \
    && rm -rf /tmp/src \
    && useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin --uid 10001 hotline

USER hotline
WORKDIR /tmp
EXPOSE 8000

# /readyz answers 200 when PostgreSQL and Redis both answer (503 otherwise). The worker's containers override it
# with `hotline worker --check`, the migrate container with none (compose.yaml).
HEALTHCHECK --interval=10s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python3", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/readyz' % os.environ.get('HOTLINE_PORT', '8000'), timeout=4)"]

ENTRYPOINT ["hotline"]
CMD ["serve"]

# The project image. Every worker, the gateway, the lag monitor and the topics job of
# docker-compose.yml run it, each with its own command (`hotline stage run url-verify`, ...).
#
#   docker build -t hotline .

# ---------------------------------------------------------------- build
FROM python:3.11-slim AS build

# pdqhash publishes no binary wheel: it compiles (C++) here, and the compiler stays out of the
# image that runs.
RUN apt-get update \
    && apt-get install -y --no-install-recommends build-essential \
    && rm -rf /var/lib/apt/lists/*
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY pyproject.toml README.md ./
COPY pipeline ./pipeline
COPY agents ./agents
COPY schemas ./schemas
# `pip install .`, in two steps: wheels of the project and everything it needs, installed below.
RUN pip wheel --wheel-dir /wheels .

# ---------------------------------------------------------------- run
FROM python:3.11-slim

# Debian's Chromium renders evidence screenshots (Playwright drives it: no browser download);
# `unshare` (util-linux) gives it a network namespace of its own where the container allows
# one; DejaVu has the Cyrillic and Kazakh letters the pages are written in.
RUN apt-get update \
    && apt-get install -y --no-install-recommends chromium util-linux fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

COPY --from=build /wheels /wheels
RUN pip install --no-index --find-links=/wheels hotline && rm -rf /wheels

# The data the code reads from the project's root in a checkout: with the package installed in
# site-packages it is here, and every setting that names a file of it points here. An operator
# mounts their own files over these (the domestic directory above all) or sets the variable.
WORKDIR /app
COPY topics.yaml ./
COPY rules ./rules
ENV HOTLINE_TOPICS_FILE=/app/topics.yaml \
    HOTLINE_CATEGORIZE_RULES=/app/rules/categorize \
    HOTLINE_JURISDICTION_RULES=/app/rules/jurisdiction/ruleset.yaml \
    HOTLINE_ROUTING_RULES=/app/rules/routing/rules.yaml \
    HOTLINE_NOTICE_TEMPLATES=/app/rules/routing/templates.yaml \
    HOTLINE_BANNED_SITES=/app/rules/routing/banned_sites.yaml \
    HOTLINE_PARTNER_DIRECTORY=/app/rules/directories/partner_hotlines.yaml \
    HOTLINE_DOMESTIC_DIRECTORY=/app/rules/directories/domestic.yaml \
    HOTLINE_CDN_DIRECTORY=/app/rules/jurisdiction/cdns.yaml \
    HOTLINE_PLATFORM_DIRECTORY=/app/rules/jurisdiction/platforms.yaml

# Not root. Its data directory (Faust's, the evidence store) exists and is its own, so a named
# volume mounted on it (docker-compose.yml: evidence) starts with that owner.
RUN useradd --create-home --uid 10001 --user-group hotline \
    && mkdir -p /var/lib/hotline/evidence \
    && chown -R hotline:hotline /var/lib/hotline
ENV HOTLINE_DATA_DIR=/var/lib/hotline
USER hotline

EXPOSE 8080
CMD ["hotline", "--help"]

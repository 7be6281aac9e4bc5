# callrec's call service and staff web app as one image: `callrec run --migrate` as uid 10001.
#
# Build arguments (all optional):
#   BASE_IMAGE         the base: any Debian bookworm image with python3 (3.11) and its venv
#                      module; a site may pin or mirror its own. Debian's own python3 works too:
#                      callrec goes into a virtual environment (/opt/callrec), so PEP 668's
#                      "externally managed" guard never stops the build.
#   SYSTEM_PACKAGES    Debian packages the image needs: ffmpeg (pydub reads uploaded prompts
#                      in MP3/OGG) and espeak-ng (`callrec prompts build`). Those the base
#                      already has are not fetched again; with all present, apt is not run.
#   PIP_INDEX_URL, PIP_EXTRA_INDEX_URL, PIP_FIND_LINKS, PIP_CONSTRAINT, PIP_TRUSTED_HOST,
#   PIP_CERT, PIP_NO_INDEX, PIP_DEFAULT_TIMEOUT
#                      pip's settings for this build, read by pip from the environment as
#                      usual (a build argument is an environment variable of each RUN, not
#                      stored in the image's environment). Give them when pip must use a
#                      site's own index or local wheels; a local folder or file they name
#                      must be mounted into the build read-only, e.g.
#                        podman build --volume /srv/wheels:/srv/wheels:ro \
#                          --build-arg PIP_FIND_LINKS=/srv/wheels --build-arg PIP_NO_INDEX=1 .
#                      tests/container/build.py passes the build machine's own `pip config`
#                      this way.
#
# Run (README, "Running in a container"): mount the config file at /etc/callrec/config.toml,
# Asterisk's recordings folder at the path [recording] service_dir names, and keep
# /var/lib/callrec on a named volume (the journal, the SQLite file if any, key files, and the
# prompts, which the admin may replace). Relative paths in the config are taken from its
# folder, and in this image /etc/callrec/var is /var/lib/callrec and /etc/callrec/prompts is
# /var/lib/callrec/prompts: config.example.toml's relative paths work when only the file is
# mounted (mounting a whole folder over /etc/callrec hides both links: use absolute paths).
# A new named volume starts with the image's prompts; an empty bind mount does not.
ARG BASE_IMAGE=python:3.11-slim-bookworm
FROM ${BASE_IMAGE}

ARG SYSTEM_PACKAGES="ffmpeg espeak-ng"
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    VIRTUAL_ENV=/opt/callrec PATH=/opt/callrec/bin:$PATH \
    CALLREC_CONFIG=/etc/callrec/config.toml

RUN set -eu; missing=""; \
    for package in $SYSTEM_PACKAGES; do \
      dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" \
        || missing="$missing $package"; \
    done; \
    if [ -n "$missing" ]; then \
      apt-get update -q \
      && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing \
      && rm -rf /var/lib/apt/lists/*; \
    fi

# The service's own user and group (uid/gid 10001). Asterisk's recordings are shared through
# Asterisk's group instead: run with --group-add <asterisk's gid> (README).
RUN groupadd --system --gid 10001 callrec \
    && useradd --system --uid 10001 --gid 10001 --home-dir /var/lib/callrec \
       --shell /usr/sbin/nologin callrec

ARG PIP_INDEX_URL
ARG PIP_EXTRA_INDEX_URL
ARG PIP_FIND_LINKS
ARG PIP_CONSTRAINT
ARG PIP_TRUSTED_HOST
ARG PIP_CERT
ARG PIP_NO_INDEX
ARG PIP_DEFAULT_TIMEOUT
# The dependencies first, from pyproject.toml alone: a change to the code reuses this layer.
COPY pyproject.toml /app/pyproject.toml
RUN python3 -m venv /opt/callrec \
    && python3 -c "import tomllib; print('\n'.join(tomllib.load(open('/app/pyproject.toml', 'rb'))['project']['dependencies']))" \
       > /tmp/requirements.txt \
    && /opt/callrec/bin/pip install --no-cache-dir --disable-pip-version-check \
       -r /tmp/requirements.txt setuptools wheel \
    && rm /tmp/requirements.txt

WORKDIR /app
COPY README.md config.example.toml ./
COPY callrec_ari ./callrec_ari
COPY migrations ./migrations
COPY prompts ./prompts
COPY dialplan ./dialplan
# Installed in place (editable): the migrations and prompts are found beside the package.
RUN /opt/callrec/bin/pip install --no-cache-dir --disable-pip-version-check \
       --no-deps --no-build-isolation -e . \
    && mkdir -p /etc/callrec /var/lib/callrec \
    && cp -a /app/prompts /var/lib/callrec/prompts \
    && chown -R callrec:callrec /var/lib/callrec && chmod 0750 /var/lib/callrec \
    && ln -s /var/lib/callrec /etc/callrec/var \
    && ln -s /var/lib/callrec/prompts /etc/callrec/prompts

USER 10001:10001
EXPOSE 8089 8443
VOLUME ["/var/lib/callrec"]
# /healthz on [service] port, read from the config; callrec-health is `callrec health`
# without loading the whole command line (it starts in half a second, not two to five).
HEALTHCHECK --interval=30s --timeout=10s --start-period=30s --retries=3 \
    CMD ["callrec-health"]
ENTRYPOINT ["callrec"]
# --migrate: bring the database schema up to date before serving (the image's default).
CMD ["run", "--migrate"]

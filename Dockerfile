# callrec's call service and staff web app as a minimal image: `callrec run` as a non-root user.
# The base image is a build argument so a site can pin or mirror its own.
ARG BASE_IMAGE=python:3.11-slim-bookworm
FROM ${BASE_IMAGE}

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
RUN useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin callrec

WORKDIR /app
COPY pyproject.toml README.md config.example.toml ./
COPY callrec_ari ./callrec_ari
COPY migrations ./migrations
COPY prompts ./prompts
COPY dialplan ./dialplan
# Installed in place: the migrations and prompts are found beside the package.
RUN pip install --no-cache-dir -e . && mkdir -p /etc/callrec /var/lib/callrec \
    && chown callrec /var/lib/callrec

USER callrec
EXPOSE 8089 8443
# Mount the config at /etc/callrec/config.toml and the recordings folder Asterisk writes to;
# secrets may come from CALLREC_ARI_PASSWORD and CALLREC_DATABASE_URL instead of the file.
# Keep the call journal on a volume too (e.g. journal_dir = "/var/lib/callrec/journal"):
# it holds the rows the database has not stored yet. The web app's session key file
# (secret_key_file = "/var/lib/callrec/web-secret.key") belongs there as well. Set [web] host
# to 0.0.0.0 with tls_certificate and tls_key to serve staff beyond the container.
# The recordings folder also holds the register of calls connected while callrec was down
# (CALLREC_REGISTER): run with Asterisk's shared group (--group-add <gid>) so the service can
# read, rename and delete what Asterisk's user writes there.
VOLUME ["/var/lib/callrec"]
ENTRYPOINT ["callrec"]
CMD ["run", "--config", "/etc/callrec/config.toml"]

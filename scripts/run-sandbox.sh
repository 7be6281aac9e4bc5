#!/usr/bin/env bash
# One command: set up (if needed) and run callrec on the embedded defaults: a local Asterisk 22
# sandbox with callrec's dialplan and prompts, the service, and SQLite in var/callrec.db.
# CALLREC_SKIP_SETUP=1 skips the set-up (the README test runs this beside other tests, and a
# reinstall of the package under them would break their imports).
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ -z "${CALLREC_SKIP_SETUP:-}" ]]; then
  scripts/setup.sh
fi
exec .venv/bin/callrec sandbox up "$@"

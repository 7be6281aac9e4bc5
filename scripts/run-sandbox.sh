#!/usr/bin/env bash
# One command: set up (if needed) and run callrec on the embedded defaults: a local Asterisk 22
# sandbox with callrec's dialplan and prompts, the service, and SQLite in var/callrec.db.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
exec .venv/bin/callrec sandbox up "$@"

#!/usr/bin/env bash
# Creates or updates the project-local virtual environment .venv and installs Segue into it.
# Usage: installer/venv.sh [EXTRA...]   e.g. `installer/venv.sh dev`
set -euo pipefail
cd "$(dirname "$0")/.."

python=${PYTHON:-python3}
if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  echo "Segue needs Python 3.11 or newer as '$python' (set PYTHON=/path/to/python3.11)." >&2
  exit 1
fi
if [[ ! -x .venv/bin/python ]]; then
  "$python" -m venv .venv
fi
spec="."
if (($#)); then
  spec=".[$(IFS=,; echo "$*")]"
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip 2>/dev/null || true
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e "$spec"

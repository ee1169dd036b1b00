#!/usr/bin/env bash
# Installs what the test suite needs and runs all of it: ruff, mypy and pytest.
# - Debian packages (virtual desktop, virtual microphone, a browser) when root and missing;
# - a project-local virtual environment in .venv with Segue, its dev and local-speech extras.
# Exit status is non-zero when anything fails, including pytest finding no tests (exit 5).
set -euo pipefail
cd "$(dirname "$0")/.."

installer/apt.sh test
installer/venv.sh dev local gtk

echo "== ruff"
.venv/bin/ruff check .
.venv/bin/ruff format --check .
echo "== mypy"
.venv/bin/mypy
echo "== pytest"
.venv/bin/pytest "$@"

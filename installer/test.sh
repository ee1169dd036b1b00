#!/usr/bin/env bash
# Installs what the test suite needs and runs all of it: ruff, mypy and pytest.
# - Debian packages (a browser for the sign-in test) when running as root and they are missing;
# - a project-local virtual environment in .venv with Segue and its dev extra.
# Exit status is non-zero when anything fails, including pytest finding no tests (exit 5).
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(chromium)

if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
  missing=()
  for pkg in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  if ((${#missing[@]})); then
    echo "Installing Debian packages: ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
fi

installer/venv.sh dev

echo "== ruff"
.venv/bin/ruff check .
.venv/bin/ruff format --check .
echo "== mypy"
.venv/bin/mypy
echo "== pytest"
.venv/bin/pytest "$@"

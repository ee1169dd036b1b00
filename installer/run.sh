#!/usr/bin/env bash
# Installs Segue (with the local speech model) into the project-local .venv and starts it. With no
# Spotify app configured it runs against the built-in simulated Spotify. Arguments are passed on:
# `installer/run.sh --help`.
set -euo pipefail
cd "$(dirname "$0")/.."
installer/apt.sh run
installer/venv.sh local gtk
exec .venv/bin/segue "$@"

#!/usr/bin/env bash
# Builds the one-folder Segue app with PyInstaller (dist/segue/, program dist/segue/segue) and
# checks that the result runs: `segue --version` and a typed command against the simulator.
# Not part of the test run (installer/test.sh): it takes minutes and needs PyPI.
# Uses its own virtual environment, .venv-build, with Segue's `local` extra (the local speech
# model goes into the build) and PyInstaller. Usage: installer/build.sh [PYINSTALLER-OPTION...]
set -euo pipefail
cd "$(dirname "$0")/.."

python=${PYTHON:-python3}
if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  echo "Building Segue needs Python 3.11 or newer as '$python' (set PYTHON=/path/to/python3.11)." >&2
  exit 1
fi
installer/apt.sh run

start=$(date +%s)
if [[ ! -x .venv-build/bin/python ]]; then
  "$python" -m venv .venv-build
fi
pip=(.venv-build/bin/python -m pip --quiet --disable-pip-version-check)
"${pip[@]}" install --upgrade pip 2>/dev/null || true
"${pip[@]}" install -e ".[local,gtk]" "pyinstaller>=6.10,<7"

echo "== pyinstaller"
.venv-build/bin/pyinstaller --noconfirm --clean --log-level WARN \
  --distpath dist --workpath build/pyinstaller "$@" installer/segue.spec
built=$(date +%s)

# Run the result with an empty home, so the check sees the bundle and not this user's settings.
home=$(mktemp -d)
trap 'rm -rf "$home"' EXIT
run() {
  env -u SEGUE_SPOTIFY_CLIENT_ID -u OPENAI_API_KEY \
    HOME="$home" XDG_CONFIG_HOME="$home/.config" XDG_DATA_HOME="$home/.local/share" \
    XDG_CACHE_HOME="$home/.cache" XDG_STATE_HOME="$home/.local/state" \
    dist/segue/segue "$@"
}
echo "== dist/segue/segue --version"
run --version
echo "== dist/segue/segue say --demo \"what's playing\""
reply=$(run say --demo "what's playing")
echo "$reply"
if [[ -z "$reply" ]]; then
  echo "The built Segue printed no reply." >&2
  exit 1
fi

echo "== built dist/segue/ in $((built - start)) s; size $(du -sh dist/segue | cut -f1)" \
  "($(find dist/segue -type f | wc -l) files)"

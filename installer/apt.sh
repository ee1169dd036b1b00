#!/usr/bin/env bash
# Installs the Debian/Ubuntu packages Segue needs, when run as root on a system with apt and they
# are missing; elsewhere it lists what is missing and carries on (macOS and Windows need none of
# these: see the README).
# Usage: installer/apt.sh run|test
set -euo pipefail

# What Segue itself needs on Linux: PortAudio for the microphone, GTK and AppIndicator for the tray
# (and the headers PyGObject builds against), espeak-ng for the system voice.
RUN_PACKAGES=(
  libportaudio2 espeak-ng
  gir1.2-gtk-3.0 gir1.2-ayatanaappindicator3-0.1 libgirepository1.0-dev libcairo2-dev pkg-config
)
# What the tests add: a virtual desktop, a virtual microphone, a browser for the sign-in test.
TEST_PACKAGES=(
  xvfb xdotool trayer imagemagick x11-utils dbus dbus-x11 dunst libnotify-bin
  pulseaudio pulseaudio-utils libasound2-plugins alsa-utils sox chromium
)

case "${1:-run}" in
  run) wanted=("${RUN_PACKAGES[@]}") ;;
  test) wanted=("${RUN_PACKAGES[@]}" "${TEST_PACKAGES[@]}") ;;
  *) echo "usage: $0 run|test" >&2; exit 2 ;;
esac

command -v dpkg-query >/dev/null 2>&1 || exit 0
missing=()
for pkg in "${wanted[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
((${#missing[@]})) || exit 0

if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing Debian packages: ${missing[*]}"
  apt-get -o DPkg::Lock::Timeout=120 update -qq
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=120 install -y -qq \
    --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "Missing system packages (install them with your package manager): ${missing[*]}" >&2
fi

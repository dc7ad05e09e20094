#!/usr/bin/env bash
# Debian packages Tandem needs beyond Python: WeasyPrint's Pango, fonts, poppler-utils (PDF
# checks), Chromium's headless shell (portal and client-app browser tests), npm (axe-core for the
# accessibility checks), the PostgreSQL server (the CI's PostgreSQL run), and a C compiler.
# Installs only what is missing; needs root or sudo the first time.
set -euo pipefail

packages=(libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core fonts-liberation
          poppler-utils chromium-headless-shell postgresql)
missing=()
for pkg in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
# npm may come with a Node.js installed another way; Debian's package only when there is none.
command -v npm >/dev/null || missing+=(npm)
# A C compiler and Python's headers build the risk screen's model reader (service/risk/_runs.c).
command -v gcc >/dev/null || missing+=(gcc)
py_include=$(python3 -c 'import sysconfig; print(sysconfig.get_paths()["include"])' 2>/dev/null || true)
[ -f "$py_include/Python.h" ] || missing+=(python3-dev)
[ ${#missing[@]} -eq 0 ] && exit 0

echo "installing Debian packages: ${missing[*]}"
sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "need root (or sudo) to apt-get install ${missing[*]}" >&2; exit 1; }
  sudo_cmd=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null

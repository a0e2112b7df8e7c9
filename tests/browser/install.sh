#!/usr/bin/env bash
# Installs what the browser end-to-end test needs on a Debian machine: Debian's Chromium
# (playwright-core drives it; nothing downloads a browser of its own), a CJK font so that
# Japanese pages render in screenshots, and the pinned npm packages from package-lock.json.
# Idempotent: a second run installs nothing and does not touch the network for apt.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
packages=(chromium fonts-noto-cjk)

sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then
  sudo_cmd=(sudo)
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$'; then
    missing+=("$p")
  fi
done

if [ "${#missing[@]}" -gt 0 ]; then
  echo "installing ${missing[*]} (apt-get)"
  # The package lists are only refreshed when Chromium itself is missing (a fresh machine).
  if [[ " ${missing[*]} " == *" chromium "* ]]; then
    "${sudo_cmd[@]}" apt-get update -qq
  fi
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >/dev/null
fi

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "install.sh: node and npm are needed (Debian: apt-get install nodejs npm)" >&2
  exit 1
fi

# npm ci wipes and reinstalls node_modules; skip it when the lock file is unchanged since.
stamp="$here/node_modules/.package-lock.json"
if [ ! -f "$stamp" ] || [ "$here/package-lock.json" -nt "$stamp" ]; then
  (cd "$here" && npm ci --no-audit --no-fund --loglevel=error)
fi

echo "browser test dependencies: $(/usr/bin/chromium --version 2>/dev/null || echo 'chromium ?'), node $(node --version)"

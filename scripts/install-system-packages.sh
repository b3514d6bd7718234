#!/usr/bin/env bash
# Install the Debian packages listed in scripts/system-packages.txt (and, with --test,
# scripts/system-packages-test.txt) that are not installed yet. Uses sudo when not root.
# A line "package:command" is skipped when that command is already on the PATH.
set -euo pipefail
cd "$(dirname "$0")"
lists=(system-packages.txt)
[ "${1:-}" = "--test" ] && [ -f system-packages-test.txt ] && lists+=(system-packages-test.txt)
wanted=$(sed -e 's/#.*//' "${lists[@]}" | xargs -r echo)
missing=()
for entry in $wanted; do
  pkg=${entry%%:*}; cmd=${entry#*:}
  [ "$cmd" != "$entry" ] && command -v "$cmd" >/dev/null 2>&1 && continue
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0
sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "installing system packages: ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"

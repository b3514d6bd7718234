#!/usr/bin/env bash
# The Space as the Hugging Face Spaces runtime builds and starts it (sdk: gradio, README.md's card):
#   1. packages.txt's Debian packages must be installed (the runtime's apt step);
#   2. a clean virtual environment gets exactly requirements.txt (the runtime's pip step, here by uv's
#      `uv pip install`, same pins, from uv's cache in seconds where pip takes minutes; pip is seeded in, as
#      the runtime has it);
#   3. the Space's files (what git tracks) start as `python app.py` on 0.0.0.0:7860 with SPACE_ID set and
#      the offline profile; the app fetches its weight carriers itself (heimdex/models/carriers.py);
#   4. scripts/space_drive.py registers, uploads a shared clip and searches it through gradio_client.
# Run by `make test`. Everything it starts is stopped and removed at exit.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-$(command -v python3.11 || command -v python3)}
MEDIA=$(cd "${HEIMDEX_TEST_MEDIA:-../shared/media}" && pwd)
PORT=${SPACE_CHECK_PORT:-7860}
work=$(mktemp -d)
app=""
cleanup() {
  if [ -n "$app" ]; then kill "$app" 2>/dev/null || true; wait "$app" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

missing=$(while read -r pkg; do  # installed, or its command is here some other way (npm beside a node install)
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || command -v "$pkg" >/dev/null || echo "$pkg"
done < packages.txt)
[ -z "$missing" ] || { echo "space-check: packages.txt lists packages not installed: $missing"; exit 1; }

UV=${UV:-$(command -v .venv/bin/uv || command -v uv)}
echo "space-check: a clean environment from requirements.txt"
"$UV" venv -q --seed --python "$PYTHON" "$work/venv"
VIRTUAL_ENV="$work/venv" "$UV" pip install -q -r requirements.txt

mkdir "$work/space"
git ls-files -z --cached --others --exclude-standard | xargs -0 cp --parents -t "$work/space"
cd "$work/space"
echo "space-check: python app.py on 0.0.0.0:$PORT"
env -u DATABASE_URL -u REDIS_URL -u HEIMDEX_DATA_DIR SPACE_ID=heimdex/space-check HEIMDEX_MODELS=offline \
  HEIMDEX_DATA_DIR="$work/data" GRADIO_SERVER_NAME=0.0.0.0 GRADIO_SERVER_PORT="$PORT" GRADIO_ANALYTICS_ENABLED=False \
  "$work/venv/bin/python" app.py >"$work/app.log" 2>&1 &
app=$!
answers() { "$work/venv/bin/python" -c "import sys, urllib.request as u; print(u.urlopen(sys.argv[1], timeout=30).read().decode())" "$1"; }
for _ in $(seq 1 600); do
  answers "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && break
  kill -0 "$app" 2>/dev/null || { echo "space-check: the app exited:"; tail -40 "$work/app.log"; exit 1; }
  sleep 1
done
answers "http://127.0.0.1:$PORT/readyz" || { echo "space-check: not ready:"; tail -40 "$work/app.log"; exit 1; }
"$work/venv/bin/python" scripts/space_drive.py "http://127.0.0.1:$PORT/" "$MEDIA/walkthrough_en.mp4" \
  "ask not what your country can do for you" || { tail -40 "$work/app.log"; exit 1; }
echo "space-check: ok"

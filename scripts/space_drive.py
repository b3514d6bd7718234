"""Drive a running Heimdex as an API client would, through gradio_client: register, upload, wait, search.

    python scripts/space_drive.py http://127.0.0.1:7860 clip.mp4 "words said in it"

Exits 0 when the clip is indexed and the search finds it; otherwise says what went wrong.
"""

from __future__ import annotations

import sys
import time
import uuid

from gradio_client import Client, handle_file


def main(base: str, clip: str, words: str) -> int:
    token = Client(base, verbose=False).predict(
        f"space-{uuid.uuid4().hex[:8]}@example.com", "correct horse battery", api_name="/register"
    )["access_token"]
    client = Client(base, verbose=False, headers={"Authorization": f"Bearer {token}"})
    video_id = client.predict(token, handle_file(clip), "", "auto", api_name="/upload")
    deadline = time.monotonic() + 600
    while (state := client.predict(token, api_name="/videos")[0]["state"]) != "indexed":
        if state == "failed" or time.monotonic() > deadline:
            print(f"indexing ended {state}", file=sys.stderr)
            return 1
        time.sleep(1)
    found = client.predict(token, words, 5, api_name="/search")["moments"]
    if not found or found[0]["video_id"] != video_id:
        print(f"searching {words!r} did not find the clip: {found}", file=sys.stderr)
        return 1
    print(f"registered, uploaded, indexed and found: {found[0]['title']} {found[0]['start_s']:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:4]))

"""What an attacker (or any HTTP client) sends to a launched app: raw calls, uploads, a fresh account."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
import uuid
from pathlib import Path

PASSWORD = "correct horse battery"
FILE = {"meta": {"_type": "gradio.FileData"}}


def http(
    url: str, data: bytes | None = None, headers: dict | None = None, timeout: float = 30.0
) -> tuple[int, bytes, dict]:
    request = urllib.request.Request(url, data=data, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            return answer.status, answer.read(), dict(answer.headers)
    except urllib.error.HTTPError as error:
        return error.code, error.read(), dict(error.headers)


def call(base: str, name: str, *args, headers: dict | None = None, timeout: float = 60.0) -> tuple[bool, object]:
    """Call a named API endpoint the way any HTTP client can: (True, result) or (False, the message shown)."""
    body = json.dumps({"data": list(args)}).encode()
    status, answer, _ = http(
        f"{base}/gradio_api/call/{name}", body, {"Content-Type": "application/json", **(headers or {})}
    )
    if status == 400:  # refused before Gradio saw it (heimdex.app.web.FileGate)
        return False, answer.decode()
    assert status == 200, answer
    event_id = json.loads(answer)["event_id"]
    _, stream, _ = http(f"{base}/gradio_api/call/{name}/{event_id}", headers=headers, timeout=timeout)
    event, data = None, None
    for line in stream.decode().splitlines():
        if line.startswith("event:"):
            event = line.split(":", 1)[1].strip()
        elif line.startswith("data:"):
            data = line.split(":", 1)[1].strip()
    payload = json.loads(data) if data not in (None, "null") else None
    if event == "complete":
        return True, payload[0]
    return False, payload.get("error") if isinstance(payload, dict) else payload


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def register(base: str, confirmed: bool = False) -> tuple[str, str]:
    """A new account through the API: its address and access token (``confirmed``: its address verified through the
    link mailed to it, as public links need)."""
    email = f"sec-{uuid.uuid4().hex[:8]}@example.com"
    ok, tokens = call(base, "register", email, PASSWORD)
    assert ok, tokens
    if confirmed:
        from smtp_mailbox import confirm_token

        assert call(base, "verify_email", confirm_token(email)) == (True, "Your email address is confirmed.")
    return email, tokens["access_token"]


def upload_raw(base: str, path: Path, token: str | None) -> tuple[int, bytes]:
    """POST a file to Gradio's upload route as a browser or an API client would."""
    boundary = uuid.uuid4().hex
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="{path.name}"\r\n'
            f"Content-Type: application/octet-stream\r\n\r\n"
        ).encode()
        + path.read_bytes()
        + f"\r\n--{boundary}--\r\n".encode()
    )
    headers = {"Content-Type": f"multipart/form-data; boundary={boundary}"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    status, answer, _ = http(f"{base}/gradio_api/upload", body, headers)
    return status, answer


def videos(base: str, token: str) -> list:
    ok, listed = call(base, "videos", token)
    assert ok, listed
    return listed


def upload_indexed(base: str, token: str, path: Path, timeout: float = 180.0) -> str:
    """Upload ``path`` as the token's user and wait until it is indexed; its video id."""
    import time

    status, answer = upload_raw(base, path, token)
    assert status == 200, answer
    ok, video_id = call(
        base, "upload", token, {"path": json.loads(answer)[0], **FILE}, "", "auto", headers=bearer(token)
    )
    assert ok, video_id
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = next(v["state"] for v in videos(base, token) if v["video_id"] == video_id)
        if state in ("indexed", "failed"):
            break
        time.sleep(0.5)
    assert state == "indexed", state
    return str(video_id)

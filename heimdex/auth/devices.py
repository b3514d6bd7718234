"""The browser and device a session began in, said from its user agent (ua-parser's rules)."""

from __future__ import annotations

from functools import lru_cache

import ua_parser


@lru_cache(maxsize=256)
def device(user_agent: str) -> str:
    """``"Chrome 156 on Linux"``, ``"Mobile Safari on iPhone"``, ``"gradio_client"``; ``""`` when nothing is known."""
    agent = (user_agent or "").strip()[:400]
    if not agent:
        return ""
    parsed = ua_parser.parse(agent)
    browser = parsed.user_agent.family if parsed.user_agent and parsed.user_agent.family != "Other" else ""
    if browser and parsed.user_agent and parsed.user_agent.major and "Mobile" not in browser:
        browser = f"{browser} {parsed.user_agent.major}"
    where = ""
    if parsed.device and parsed.device.family not in {"Other", "Mac", "Spider"}:
        where = parsed.device.family
    elif parsed.os and parsed.os.family != "Other":
        where = parsed.os.family
    if not browser:
        return (agent.split("/")[0][:40] + (f" on {where}" if where else "")).strip()
    return f"{browser} on {where}" if where else browser

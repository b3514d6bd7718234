"""Download my data: a zip of everything the user keeps, made by a job (:mod:`heimdex.library.export`) and fetched
through a signed link that names its purpose and dies with the session, or when the zip expires."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import cast

from heimdex.app.core.common import database
from heimdex.app.links import Purpose, secret, sign
from heimdex.app.results import ExportInfo
from heimdex.auth.accounts import audit, require_verified
from heimdex.auth.users import User
from heimdex.library import export
from heimdex.library.quotas import export_limit


def _shown(user: User, found: dict) -> ExportInfo:
    """The export as the user sees it; once ready, its link, alive as long as the zip is kept (and the session)."""
    url = None
    if found["state"] == "ready" and found["expires_at"]:
        export_id = uuid.UUID(found["export_id"])
        left = int((datetime.fromisoformat(found["expires_at"]) - datetime.now(UTC)).total_seconds())
        query = sign(secret(), Purpose.EXPORT, user.id, export_id, user.session_id, seconds=max(60, left))
        url = f"/export/{export_id}?{query}"
    return cast(ExportInfo, {**found, "url": url})


def export_data(user: User) -> ExportInfo:
    """Begin making the zip of the user's data (originals, transcripts, scene index, people, a page to browse them);
    :func:`export_status` follows it. Waits for a confirmed address."""
    require_verified(user)
    export_id = export.start_export(database(), user.id)
    audit(database(), user.id, "export_requested")
    export.run_export_later(export_id, export_limit(user.tier))
    return _shown(user, export.export_status(database(), user.id, export_id))


def export_status(user: User) -> ExportInfo | None:
    """The user's latest data export: its state, progress, size, and once ready its download link (``url``)."""
    found = export.latest_export(database(), user.id)
    return _shown(user, found) if found else None

"""The API (gradio_client, ``/gradio_api``): the app's operations, each authenticated by a session token."""

from __future__ import annotations

import gradio as gr

from heimdex.app import service
from heimdex.config import get_settings
from ui.common import client, file_path, friendly


@friendly
def api_register(email: str, password: str, request: gr.Request) -> str:
    return service.register(email, password, client=client(request))


@friendly
def api_login(email: str, password: str, request: gr.Request) -> str:
    return service.login(email, password, client=client(request))


@friendly
def api_logout(token: str) -> str:
    """End the session: its token and every link made under it stop working."""
    service.logout(token)
    return "signed out"


@friendly
def api_change_password(token: str, current: str, new: str) -> str:
    """A new password ends every session of the account; the answer is a fresh token."""
    return service.change_password(token, current, new)


# Files arrive as plain JSON (what `gradio_client.handle_file` uploads and names), never as gr.FileData:
# Gradio would copy a FileData path into its cache before the session is checked. The service
# reads only a path this user uploaded (heimdex.app.handoff).
@friendly
def api_upload(token: str, file: dict, title: str = "", language: str = "auto") -> str:
    return service.upload(token, file_path(file), title or None, language)


@friendly
def api_videos(token: str) -> list:
    return service.videos(token)


@friendly
def api_search(token: str, query: str, limit: int = 10, person: str = "") -> list:
    return service.search(token, query, int(limit), person=person or None)


@friendly
def api_preview(token: str, video_id: str, start_s: float = 0.0) -> str:
    return service.preview(token, video_id, start_s)


@friendly
def api_transcript(token: str, video_id: str) -> dict:
    return service.transcript(token, video_id)


@friendly
def api_moment(token: str, video_id: str, start_s: float = 0.0) -> dict:
    return service.moment(token, video_id, start_s)


@friendly
def api_publish_clip(token: str, video_id: str, start_s: float, end_s: float) -> dict:
    return service.publish_clip(token, video_id, start_s, end_s)


@friendly
def api_unpublish_clip(token: str, clip_id: str) -> str:
    service.unpublish_clip(token, clip_id)
    return "off"


@friendly
def api_public_clips(token: str) -> list:
    return service.public_clips(token)


@friendly
def api_reindex(token: str, video_id: str) -> int:
    """Index the video again; the job's id (a video already queued or running keeps its job)."""
    return service.reindex(token, video_id)


@friendly
def api_delete_video(token: str, video_id: str) -> str:
    return service.delete_video(token, video_id)


@friendly
def api_people(token: str) -> dict:
    return service.people(token)


@friendly
def api_add_person(token: str, name: str, photos: list[dict]) -> dict:
    return service.add_person(token, name, [file_path(p) for p in photos] if isinstance(photos, list) else photos)


@friendly
def api_name_face(token: str, face_id: int, name: str) -> dict:
    return service.name_face(token, face_id, name)


@friendly
def api_likely_faces(token: str, person_id: int) -> list:
    return service.likely_faces(token, person_id)


@friendly
def api_scene_faces(token: str, scene_ids: list[int]) -> list:
    return service.scene_faces(token, scene_ids)


@friendly
def api_rename_person(token: str, person_id: int, name: str) -> dict:
    return service.rename_person(token, person_id, name)


@friendly
def api_merge_people(token: str, keep_id: int, other_id: int) -> dict:
    return service.merge_people(token, keep_id, other_id)


@friendly
def api_split_person(token: str, person_id: int) -> list:
    return service.split_person(token, person_id)


@friendly
def api_delete_person(token: str, person_id: int) -> str:
    service.delete_person(token, person_id)
    return "deleted"


API = (
    api_register,
    api_login,
    api_logout,
    api_change_password,
    api_upload,
    api_videos,
    api_search,
    api_preview,
    api_transcript,
    api_moment,
    api_publish_clip,
    api_unpublish_clip,
    api_public_clips,
    api_reindex,
    api_delete_video,
    api_people,
    api_add_person,
    api_scene_faces,
    api_name_face,
    api_likely_faces,
    api_rename_person,
    api_merge_people,
    api_split_person,
    api_delete_person,
)  # served as /register, /login, ...


def serve() -> None:
    """Every endpoint of :data:`API` under its name, inside the Blocks being built."""
    searches = get_settings().search_concurrency
    for endpoint in API:
        name = endpoint.__name__.removeprefix("api_")
        if name == "search":  # answered directly too (POST /gradio_api/run/search), without the queue's overhead
            gr.api(endpoint, api_name=name, concurrency_limit=searches, concurrency_id="search", queue=False)  # pyright: ignore[reportPrivateImportUsage]
        else:
            gr.api(endpoint, api_name=name)  # pyright: ignore[reportPrivateImportUsage]

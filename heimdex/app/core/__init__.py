"""What a user can do with their library: every function takes the :class:`~heimdex.auth.users.User` it acts for.

Who that user is was settled before the call: by the session layer (:mod:`heimdex.app.service`, for
the app and its API) or by the CLI's ``--user``. Every read and write stays inside that user's rows
and blobs; text and numbers from outside are made safe here (the CLI and the app send the same
things). Results are the typed shapes of :mod:`heimdex.app.results`. One module per subject:
:mod:`.videos`, :mod:`.moments`, :mod:`.sharing`, :mod:`.people`; :mod:`.account` acts on a session
token (or on none: signing up and in).
"""

from heimdex.app.core.exports import export_data, export_status
from heimdex.app.core.moments import (
    clip_link,
    moment,
    open_moment,
    open_shared,
    preview,
    search,
    share_link,
    transcript,
)
from heimdex.app.core.people import (
    add_person,
    delete_person,
    face_pictures,
    likely_faces,
    merge_people,
    name_face,
    people,
    person_faces,
    pictures,
    rename_person,
    scene_faces,
    split_person,
)
from heimdex.app.core.sharing import public_clips, publish_clip, unpublish_clip
from heimdex.app.core.videos import (
    account_summary,
    add_video,
    cancel,
    delete_forever,
    delete_video,
    empty_trash,
    profile,
    reindex,
    rename_video,
    restore_video,
    trash,
    upload,
    video_status,
    videos,
)

__all__ = [
    "account_summary",
    "export_data",
    "export_status",
    "add_person",
    "add_video",
    "cancel",
    "clip_link",
    "delete_forever",
    "delete_person",
    "delete_video",
    "empty_trash",
    "face_pictures",
    "likely_faces",
    "merge_people",
    "moment",
    "name_face",
    "open_moment",
    "open_shared",
    "people",
    "person_faces",
    "pictures",
    "preview",
    "profile",
    "public_clips",
    "publish_clip",
    "reindex",
    "rename_person",
    "rename_video",
    "restore_video",
    "scene_faces",
    "search",
    "share_link",
    "split_person",
    "transcript",
    "trash",
    "unpublish_clip",
    "upload",
    "video_status",
    "videos",
]

"""People: who appears in a user's videos (enrolled, suggested by clustering) and where."""

from heimdex.library.people.manage import (
    FaceShown,
    Person,
    delete_person,
    enroll,
    enroll_faces,
    face_crops,
    get_person,
    likely_faces,
    list_people,
    merge_people,
    person_faces,
    rename_person,
    scene_faces,
    split_person,
)
from heimdex.library.people.matching import refresh

__all__ = [
    "FaceShown",
    "Person",
    "delete_person",
    "enroll",
    "enroll_faces",
    "face_crops",
    "get_person",
    "likely_faces",
    "list_people",
    "merge_people",
    "person_faces",
    "refresh",
    "rename_person",
    "scene_faces",
    "split_person",
]

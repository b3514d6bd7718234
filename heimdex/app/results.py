"""What operations answer: the shapes that cross core → service → UI, API and CLI, as JSON-ready TypedDicts.

The API describes each endpoint's answer from these (``gradio_client``'s ``view_api()`` lists their fields).
"""

from __future__ import annotations

from typing import TypedDict


class Quota(TypedDict):
    videos: int
    minutes: float
    max_videos: int
    max_minutes: float
    links: int  # public links on
    max_links: int
    searches_per_minute: int
    max_export_bytes: int


class Profile(TypedDict):
    email: str
    display_name: str
    tier: str
    usage: str  # "2 of 10 videos, 3.5 of 60 minutes"
    quota: Quota
    provider: str
    verified: bool  # the address is confirmed (public links and data exports wait for it)
    session: str  # "<user id>:<session id>": the same while a session's tokens are renewed


class VideoInfo(TypedDict):
    """One video as the Library lists it: what it is, and how its indexing goes."""

    video_id: str
    title: str
    filename: str
    state: str  # uploaded, indexing, indexed, failed
    duration_s: float
    size_bytes: int
    width: int | None
    height: int | None
    has_audio: bool
    error_code: str | None
    error: str | None
    error_stage: str | None
    created_at: str
    stage: str | None  # the running job's stage
    progress: float  # 0..1
    job_id: int | None
    job_state: str | None
    attempts: int
    scene_count: int


class ListedVideo(VideoInfo):
    poster: str  # a signed link to the first scene's picture (404 until there is one)


class TrashedVideo(TypedDict):
    """A video in the Trash: restorable until ``emptied_at``, when it is deleted for good."""

    video_id: str
    title: str
    duration_s: float
    size_bytes: int
    trashed_at: str  # ISO 8601, when it was deleted
    emptied_at: str  # ISO 8601, when it goes for good


class AccountSummary(TypedDict):
    """What deleting the account removes: the confirmation says it."""

    videos: int  # the videos in the Library (not those in the Trash)
    minutes: float  # their length together
    scenes: int  # their scenes
    trashed: int  # the videos in the Trash
    people: int  # people enrolled or named (suggestions not counted)
    links: int  # public links on


class TagEvidence(TypedDict):
    tag: str
    source: str
    confidence: float


class Moment(TypedDict):
    """One moment found: where it plays, why it matched (channel → score) and what to show."""

    video_id: str
    title: str
    filename: str
    start_s: float  # where the evidence begins (the word said, the line's first frame, the person's entry)
    end_s: float  # where it ends
    play_s: float  # where the Player starts: a second before the evidence
    scene_start_s: float
    score: float  # the calibrated probability that this is what was asked for
    tier: str  # "strong" or "possible"
    channels: dict[str, float]  # channel → its own probability: why it matched
    thumbnail: str | None  # the picture's blob key
    thumbnail_scene: int | None
    picture: str | None  # a signed link to that picture
    transcript_snippet: str  # matched words marked **like this**
    ocr_snippet: str
    tags: list[str]
    tag_evidence: list[TagEvidence]
    caption: str
    people: list[str]
    scene_ids: list[int]
    on_screen: dict[str, list[list[float]]]  # the named people's times on screen


class SearchAnswer(TypedDict):
    """One page of moments, best first, with how many there are over all pages."""

    moments: list[Moment]
    total: int
    page: int
    page_size: int
    language: str  # the query's: "ko" or "en"
    corrected: str | None  # the query as searched when a word was misspelt ("did you mean")
    unknown_names: list[str]  # words that read as names and are nobody and nothing in the library


class Line(TypedDict):
    start_s: float
    end_s: float
    text: str


class MarkedLine(Line, total=False):
    marked: str  # the query's words as **word**


class Transcript(TypedDict):
    segments: list[MarkedLine]
    vtt: str
    srt: str


class SceneFace(TypedDict):
    face_id: int
    video_id: str
    t: float | None
    name: str | None  # None: nobody known


class ShownFace(SceneFace):
    picture: str | None


class PublicClip(TypedDict):
    clip_id: str
    video_id: str
    title: str
    start_s: float
    end_s: float
    url: str  # /p/<token>
    created_at: str


class Player(TypedDict):
    """Everything the Player shows for one moment: signed links to play it, its captions and clip, its faces."""

    src: str
    captions: str
    transcript_files: dict[str, str]  # "srt" / "vtt-file" → signed link
    language: str
    duration_s: float
    title: str
    clip: str
    public: PublicClip | None  # the clip's public link, if it is on
    faces: list[ShownFace]


class Scene(TypedDict):
    scene_id: int
    idx: int
    start_s: float
    end_s: float
    transcript: str
    ocr_text: str
    caption: str
    tags: list[str]


class MomentAt(Player):
    """The moment at a time of a video: the Player's links, the video, and the scene playing then."""

    video: VideoInfo
    scene: Scene


class Person(TypedDict):
    person_id: int
    name: str | None  # None: suggested, not named yet
    photos: int
    scenes: int
    videos: int
    suggested: bool
    cover_face_id: int | None


class People(TypedDict):
    people: list[Person]
    suggested: list[Person]


class PersonFace(TypedDict):
    face_id: int
    video_id: str | None  # None for a photo
    title: str | None
    t: float | None
    reference: bool


class LikelyFace(TypedDict):
    face_id: int
    video_id: str
    title: str | None
    t: float | None
    question: str  # "Is this also Mina?"


class ExportInfo(TypedDict):
    """A data export: how far it is, and once ready the signed link that downloads it (``url``)."""

    export_id: str
    state: str  # queued, running, ready, failed, expired
    progress: float  # 0..1
    bytes: int | None
    error: str | None
    created_at: str
    finished_at: str | None
    expires_at: str | None  # when the zip is deleted
    url: str | None

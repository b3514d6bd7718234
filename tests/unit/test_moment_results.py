"""Results, pure: loose word matching, snippets, runs of adjacent scenes, and where a moment starts (localisation).

Scene rows are small dicts shaped as the database gives them; nothing here opens a connection.
"""

from __future__ import annotations

import uuid

import pytest

from heimdex.search.fusion import Fused
from heimdex.search.query import parse_query
from heimdex.search.results import SNIPPET_WORDS, Matcher, Moment, Run, _snippet, describe, group_runs

pytestmark = pytest.mark.unit

VIDEO_A = uuid.UUID(int=1)
VIDEO_B = uuid.UUID(int=2)


def scene(scene_id: int, video: uuid.UUID = VIDEO_A, idx: int | None = None, **fields) -> dict:
    idx = scene_id if idx is None else idx
    row = {
        "id": scene_id,
        "video_id": video,
        "idx": idx,
        "start_s": 10.0 * idx,
        "end_s": 10.0 * (idx + 1),
        "words": [],
        "ocr_text": "",
        "tags": [],
        "caption": "",
        "keyframe_key": f"kf/{scene_id}",
        "title": f"title {video.int}",
        "filename": f"video-{video.int}.mp4",
    }
    return row | fields


def word(text: str, start: float) -> dict:
    return {"w": text, "s": start, "e": start + 0.3}


def tag(text: str, confidence: float, source: str = "objects") -> dict:
    return {"tag": text, "confidence": confidence, "source": source}


# --- Matcher --------------------------------------------------------------------------------------------------------


def test_stopwords_and_single_letters_are_no_terms():
    matches = Matcher(("the", "a", "is", "x", "with"))
    assert matches.exact == frozenset() and matches.prefixes == ()
    assert not matches("the") and not matches("x")


def test_two_letter_terms_match_only_exactly():
    matches = Matcher(("go",))
    assert matches.exact == {"go"} and matches.prefixes == ()
    assert matches("Go!") and not matches("going")


def test_short_terms_are_prefixes_and_long_ones_lose_two_letters():
    matches = Matcher(("run", "cat", "running", "country", "walks"))
    assert matches.prefixes == ("run", "cat", "runni", "count", "wal")
    assert matches("running") and matches("runs") and matches("Cats,") and matches("countries")
    assert matches("count")  # loose by design: 'country' reaches 'count'
    assert not matches("Ru") and not matches("dog")


def test_korean_terms_match_under_particles():
    matches = Matcher(("고양이",))
    assert matches.prefixes == ("고양",)
    assert matches("고양이가") and matches("고양이를") and not matches("강아지")


def test_matching_ignores_case_and_punctuation_and_markup():
    matches = Matcher(("minji",))
    assert matches("MINJI") and matches("minji's") and matches("**Minji**") and matches("(minji)")
    assert not matches("") and not matches("...")


def test_a_matcher_of_nothing_matches_nothing():
    assert not Matcher(())("anything")


# --- snippets -------------------------------------------------------------------------------------------------------


def test_a_snippet_of_nothing_is_empty():
    assert _snippet([], Matcher(("cat",))) == ""


def test_a_short_text_is_shown_whole_with_its_matches_marked():
    assert _snippet("the cat sat on a cat".split(), Matcher(("cat",))) == "the **cat** sat on a **cat**"
    assert _snippet("no match here".split(), Matcher(("cat",))) == "no match here"


def test_a_long_text_is_cut_around_the_first_match():
    words = [f"w{i}" for i in range(40)]
    words[20] = "cat"
    shown = _snippet(words, Matcher(("cat",)))
    start = 20 - SNIPPET_WORDS // 3
    expected = [f"**{w}**" if w == "cat" else w for w in words[start : start + SNIPPET_WORDS]]
    assert shown == "… " + " ".join(expected) + " …"
    assert _snippet(words, Matcher(("cat",)), 6) == "… w18 w19 **cat** w21 w22 w23 …"


def test_a_long_text_without_a_match_shows_its_beginning():
    words = [f"w{i}" for i in range(30)]
    assert _snippet(words, Matcher(("cat",))) == " ".join(words[:SNIPPET_WORDS]) + " …"


def test_a_match_near_the_start_needs_no_leading_ellipsis():
    words = ["cat"] + [f"w{i}" for i in range(30)]
    assert _snippet(words, Matcher(("cat",)), 4) == "**cat** w0 w1 w2 …"


# --- runs -----------------------------------------------------------------------------------------------------------


def test_adjacent_scenes_merge_and_a_gap_splits():
    spans = {i: scene(i) for i in range(5)}
    hits = [Fused(3, 0.7, {}), Fused(0, 0.9, {}), Fused(1, 0.5, {}), Fused(4, 0.2, {})]
    runs = group_runs(hits, spans)
    assert [[s["idx"] for s in run.scenes] for run in runs] == [[0, 1], [3, 4]]
    assert [run.score for run in runs] == [0.9, 0.7]  # a run scores as its best scene
    assert [run.start_s for run in runs] == [0.0, 30.0]
    assert [[h.scene_id for h in run.hits] for run in runs] == [[0, 1], [3, 4]]


def test_runs_never_cross_videos_and_order_by_score_then_video_then_time():
    spans = {
        1: scene(1, VIDEO_B, idx=0),
        2: scene(2, VIDEO_A, idx=1),
        3: scene(3, VIDEO_A, idx=4),
        4: scene(4, VIDEO_B, idx=1),
    }
    hits = [Fused(1, 0.5, {}), Fused(2, 0.5, {}), Fused(3, 0.5, {}), Fused(4, 0.2, {})]
    runs = group_runs(hits, spans)
    assert [(run.video_id, [s["id"] for s in run.scenes]) for run in runs] == [
        (VIDEO_A, [2]),  # equal scores: VIDEO_A's id sorts first, then earlier runs first
        (VIDEO_A, [3]),
        (VIDEO_B, [1, 4]),
    ]


def test_hits_without_a_known_scene_are_dropped():
    assert group_runs([Fused(7, 0.9, {})], {1: scene(1)}) == []
    assert group_runs([], {1: scene(1)}) == []


# --- describe: what a moment is and where it starts ------------------------------------------------------------------


def _details() -> dict[int, dict]:
    return {
        0: scene(
            0,
            words=[word("hello", 1.0), word("Running,", 3.2)],
            ocr_text="RUNNING man",
            tags=[tag("running", 0.5, "pose"), tag("man in a red shirt", 0.9, "person"), tag("car", 0.8)],
            caption="A man in a red shirt, running.",
            on_screen={"Minji": [[5.0, 8.0], [2.0, 3.0]]},
        ),
        1: scene(
            1,
            words=[word("run", 12.0)],
            tags=[tag("running", 0.7, "pose")],
            caption="A person, running.",
            on_screen={"Minji": [[10.0, 12.0]], "Jisoo": [[11.0, 19.0]]},
        ),
    }


def _moment(hits: list[Fused], query: str, people: list[str]) -> Moment:
    details = _details()
    (run,) = group_runs(hits, details)
    return describe(run, details, parse_query(query, people), people)


def test_a_spoken_match_starts_the_moment_at_its_first_matching_word():
    moment = _moment(
        [Fused(0, 0.5, {"transcript_text": 0.5, "person": 0.4}), Fused(1, 0.9, {"tags_text": 0.9})],
        "Minji running in a red shirt",
        ["Minji"],
    )
    assert moment.start_s == 3.2 and moment.scene_start_s == 0.0 and moment.end_s == 20.0
    assert moment.channels == {"transcript": 0.5, "person": 0.4, "visual": 0.9}
    assert moment.score == 0.9 and moment.scene_ids == [0, 1]
    assert (moment.thumbnail, moment.thumbnail_scene) == ("kf/1", 1)  # the best scene's keyframe
    assert moment.transcript_snippet == "hello **Running,** run"  # 'run' is not 'running'
    assert moment.ocr_snippet == "**RUNNING** man"
    assert moment.caption == "… person, **running.**"  # see the caption test below
    assert moment.people == ["Minji"]


def test_without_speech_a_named_person_starts_the_moment_where_first_seen():
    moment = _moment([Fused(0, 0.6, {"person": 0.6}), Fused(1, 0.4, {"tags_text": 0.4})], "Minji running", ["Minji"])
    assert moment.start_s == 2.0  # the earliest of Minji's spans, not the word 'Running,' at 3.2
    assert moment.on_screen == {"Minji": [[2.0, 3.0], [5.0, 8.0], [10.0, 12.0]], "Jisoo": [[11.0, 19.0]]}


def test_without_speech_or_person_the_moment_starts_with_its_scene():
    moment = _moment([Fused(1, 0.6, {"tags_text": 0.6})], "Minji running", ["Minji"])
    assert moment.start_s == 10.0 and moment.end_s == 20.0 and moment.scene_ids == [1]
    assert moment.people == []  # named, but the person channel did not match


def test_the_tags_shown_are_those_the_terms_or_appearance_phrases_matched_at_their_best():
    moment = _moment(
        [Fused(0, 0.5, {"tags_text": 0.5}), Fused(1, 0.4, {"tags_text": 0.4})], "빨간 셔츠 running", []
    )  # '빨간 셔츠' reaches 'man in a red shirt' only through the appearance phrase 'red shirt'
    assert moment.tags == ["man in a red shirt", "running"]
    assert moment.tag_evidence == [tag("man in a red shirt", 0.9, "person"), tag("running", 0.7, "pose")]


def test_appearance_phrases_match_whole_words_only():
    details = {0: scene(0, tags=[tag("red shirts", 0.9), tag("a red shirt", 0.8)])}
    (run,) = group_runs([Fused(0, 0.5, {"tags_text": 0.5})], details)
    assert describe(run, details, parse_query("빨간 셔츠"), []).tags == ["a red shirt"]


def test_a_moment_as_a_dict_is_rounded_and_its_video_a_string():
    moment = _moment([Fused(1, 0.123456, {"tags_text": 0.123456})], "running", [])
    moment.start_s, moment.end_s = 10.00049, 19.99951
    data = moment.as_dict()
    assert data["video_id"] == str(VIDEO_A)
    assert (data["start_s"], data["end_s"], data["scene_start_s"], data["score"]) == (10.0, 20.0, 10.0, 0.1235)
    assert data["channels"] == {"visual": 0.123} and data["filename"] == "video-1.mp4"


def test_current_behaviour_a_caption_loses_its_beginning_before_a_late_match():
    """SUSPECTED BUG (reported): describe passes the caption's own length to _snippet to show it whole, but the
    window still starts a third of that length before the first match, so the sentence's start is cut."""
    sentence = "A man in a blue t-shirt, smiling, and a woman in a black top, in a meeting room."
    details = {0: scene(0, caption=sentence)}
    (run,) = group_runs([Fused(0, 0.5, {"tags_text": 0.5})], details)
    assert describe(run, details, parse_query("meeting"), []).caption == "… in a black top, in a **meeting** room."
    assert describe(run, details, parse_query("man"), []).caption == sentence.replace("man ", "**man** ", 1)


def test_run_properties():
    run = Run(VIDEO_A, [scene(2), scene(3)], [Fused(2, 0.3, {}), Fused(3, 0.8, {})])
    assert (run.score, run.start_s) == (0.8, 20.0)

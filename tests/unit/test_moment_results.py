"""Results, pure: loose word matching, snippets, runs of adjacent scenes, and where a moment starts (localisation).

Scene rows are small dicts shaped as the database gives them; nothing here opens a connection.
"""

from __future__ import annotations

import uuid

import pytest

from heimdex.search.fusion import Fused
from heimdex.search.query import parse_query
from heimdex.search.results import (
    MAX_MOMENT_S,
    MIN_MOMENT_S,
    SNIPPET_WORDS,
    Matcher,
    Moment,
    Run,
    _snippet,
    group_runs,
    moments_of,
    reasons,
)

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


def describe(run: Run, details: dict[int, dict], query, people: list[str], **more) -> Moment:
    """The run's best moment (most runs here make one)."""
    return max(moments_of(run, details, query, people, **more), key=lambda moment: moment.score)


def _moment(hits: list[Fused], query: str, people: list[str]) -> Moment:
    details = _details()
    (run,) = group_runs(hits, details)
    return describe(run, details, parse_query(query, people), people)


def test_a_spoken_match_is_its_words_with_a_lead_in_and_only_the_reasons_show():
    moment = _moment(
        [Fused(0, 0.5, {"transcript_text": 0.5, "person": 0.2}), Fused(1, 0.4, {"tags_text": 0.2})],
        "Minji running in a red shirt",
        ["Minji"],
    )
    # speech (0.5) is the reason; the person (0.2) is under half of it: no reason. Scene 1's picture, 6.5 s on,
    # is a moment of its own
    assert (moment.start_s, moment.end_s, moment.play_s) == (3.2, 3.2 + MIN_MOMENT_S, 2.2)
    assert moment.scene_start_s == 0.0 and moment.scene_ids == [0]
    assert moment.channels == {"transcript": 0.5, "person": 0.2}
    assert moment.score == 0.5 and (moment.thumbnail, moment.thumbnail_scene) == ("kf/0", 0)
    assert moment.transcript_snippet == "hello **Running,**"
    assert moment.ocr_snippet == "" and moment.caption == "" and moment.tags == []  # not what matched
    assert moment.people == []


def test_a_named_person_starts_the_moment_where_first_seen_and_it_runs_on_while_they_are():
    moment = _moment([Fused(0, 0.6, {"person": 0.6}), Fused(1, 0.4, {"person": 0.4})], "Minji running", ["Minji"])
    # Minji is seen 2-3, 5-8 (scene 0) and 10-12 (scene 1): gaps of 2 s join, one of 2 s more joins across the cut
    assert (moment.start_s, moment.end_s) == (2.0, 12.0) and moment.scene_ids == [0, 1]
    assert moment.people == ["Minji"]
    assert moment.on_screen == {"Minji": [[2.0, 3.0], [5.0, 8.0], [10.0, 12.0]], "Jisoo": [[11.0, 19.0]]}


def test_sight_is_its_scene_and_evidence_far_apart_is_two_moments():
    details = _details()
    (run,) = group_runs([Fused(0, 0.3, {"transcript_text": 0.3}), Fused(1, 0.6, {"tags_text": 0.6})], details)
    said, seen = moments_of(run, details, parse_query("running"), [])
    # the word at 3.2 (scene 0) is 6.5 s from scene 1's picture: each is its own moment, with its own score
    assert (said.start_s, said.end_s, said.scene_ids, said.score) == (3.2, 3.2 + MIN_MOMENT_S, [0], 0.3)
    assert (seen.start_s, seen.end_s, seen.scene_ids, seen.score) == (10.0, 20.0, [1], 0.6)
    assert seen.tags == ["running"] and seen.caption == "A person, **running.**" and said.tags == []


def test_a_long_scene_seen_is_cut_to_the_longest_moment_but_a_long_spoken_passage_is_not():
    long_scene = scene(0, end_s=95.0, tags=[tag("car", 0.8)], words=[word("car", 2.0 * i) for i in range(30)])
    (run,) = group_runs([Fused(0, 0.9, {"tags_text": 0.9})], {0: long_scene})
    seen = describe(run, {0: long_scene}, parse_query("car"), [])
    assert (seen.start_s, seen.end_s) == (0.0, MAX_MOMENT_S)
    (run,) = group_runs([Fused(0, 0.9, {"transcript_text": 0.9})], {0: long_scene})
    said = describe(run, {0: long_scene}, parse_query("car"), [])
    assert (said.start_s, said.end_s) == (0.0, 58.3)  # "car" said every 2 s: one passage


def test_screen_text_starts_where_its_line_appears_and_shows_that_line_only():
    lines = [{"text": "Weather today", "s": 2.4, "e": 5.6}, {"text": "EXIT on the right", "s": 14.8, "e": 18.0}]
    row = scene(0, end_s=24.0, ocr_text="Weather today\nEXIT on the right", ocr_lines=lines)
    (run,) = group_runs([Fused(0, 0.9, {"ocr_text": 0.9})], {0: row})
    moment = describe(run, {0: row}, parse_query("exit"), [])
    assert (moment.start_s, moment.end_s, moment.play_s) == (14.8, 18.0, 13.8)
    assert moment.ocr_snippet == "**EXIT** on the right"
    # a match in meaning names no word: the line whose vector was nearest (the second, piece 2) is the evidence
    meant = describe(run, {0: row}, parse_query("way out"), [], pieces={"ocr": {0: 2}})
    assert (meant.start_s, meant.ocr_snippet) == (14.8, "EXIT on the right")


def test_the_thumbnail_is_the_keyframe_nearest_the_evidence():
    lines = [{"text": "EXIT", "s": 14.8, "e": 18.0}]
    frames = [{"t": 1.0, "key": "kf/a"}, {"t": 15.5, "key": "kf/b"}, {"t": 21.0, "key": "kf/c"}]
    row = scene(0, end_s=24.0, ocr_lines=lines, keyframes=frames)
    (run,) = group_runs([Fused(0, 0.9, {"ocr_text": 0.9})], {0: row})
    assert describe(run, {0: row}, parse_query("exit"), []).thumbnail == "kf/b"


def test_reasons_are_the_best_channel_and_those_at_least_half_as_strong_and_likely_enough():
    assert reasons({"visual": 0.9, "ocr": 0.01}) == {"visual"}
    assert reasons({"visual": 0.5, "ocr": 0.3, "person": 0.0}) == {"visual", "ocr"}
    assert reasons({"visual": 0.25, "ocr": 0.16}) == {"visual"}  # 16% on its own is no reason
    assert reasons({"visual": 0.1}) == {"visual"}  # the best is always one
    assert reasons({}) == set()


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
    assert data["video_id"] == str(VIDEO_A) and data["tier"] == "possible" and data["play_s"] == 9.0
    assert (data["start_s"], data["end_s"], data["scene_start_s"], data["score"]) == (10.0, 20.0, 10.0, 0.1235)
    assert data["channels"] == {"visual": 0.123} and data["filename"] == "video-1.mp4"


def test_a_caption_is_shown_whole_with_its_matches_marked():
    """Was a SUSPECTED BUG: the caption's window started a third of its length before a late match."""
    sentence = "A man in a blue t-shirt, smiling, and a woman in a black top, in a meeting room."
    details = {0: scene(0, caption=sentence)}
    (run,) = group_runs([Fused(0, 0.5, {"tags_text": 0.5})], details)
    assert describe(run, details, parse_query("meeting"), []).caption == sentence.replace("meeting", "**meeting**")
    assert describe(run, details, parse_query("man"), []).caption == sentence.replace("man ", "**man** ", 1)


def test_run_properties():
    run = Run(VIDEO_A, [scene(2), scene(3)], [Fused(2, 0.3, {}), Fused(3, 0.8, {})])
    assert (run.score, run.start_s) == (0.8, 20.0)


def test_a_named_person_places_the_moment_even_where_the_picture_also_matched():
    details = _details()
    (run,) = group_runs([Fused(0, 0.7, {"person": 0.7, "tags_text": 0.6})], details)
    moment = describe(run, details, parse_query("Minji running", ["Minji"]), ["Minji"])
    assert moment.start_s == 2.0  # where Minji appears, not the scene's start that the tag "running" belongs to
    assert moment.tags == ["running"]  # the picture is still a reason, and shows

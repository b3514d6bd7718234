"""What the tabs show, from the service's answers, without a browser: labels, choices, headings, marks, the moment
a share link opens, the cards and the empty answer."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.unit

MINA = {"person_id": 7, "name": "Mina", "photos": 1, "scenes": 4, "videos": 2, "suggested": False, "cover_face_id": 3}
SOMEONE = {
    "person_id": 9,
    "name": None,
    "photos": 0,
    "scenes": 1,
    "videos": 1,
    "suggested": True,
    "cover_face_id": None,
}
LISTING = {"people": [MINA], "suggested": [SOMEONE]}


def _moment(video: str, start: float, **more) -> dict:
    return {
        "video_id": video,
        "title": "Interview <b>",
        "start_s": start,
        "end_s": start + 5,
        "scene_start_s": start - 1,
        "play_s": start - 1,
        "score": 0.72,
        "tier": "strong",
        "channels": {"transcript": 0.9},
        "transcript_snippet": "ask **not**",
        "ocr_snippet": "",
        "tags": [],
        "people": [],
        "picture": f"/still/{video}?s=1",
        **more,
    }


def test_people_are_labelled_by_name_and_where_seen_in_both_languages():
    from ui.people import who_label

    assert who_label(MINA, "en") == "Mina · 4 scene(s) in 2 video(s)"
    assert who_label(SOMEONE, "en").startswith("Someone · ")
    assert who_label(MINA, "ko") != who_label(MINA, "en") and who_label(MINA, "ko").startswith("Mina · ")


def test_a_face_is_a_photo_or_where_it_was_seen():
    from ui.people import face_label

    assert face_label({"reference": True, "title": None, "t": None}, "en") == "photo"
    assert face_label({"reference": True, "title": None, "t": None}, "ko") == "사진"
    assert face_label({"reference": False, "title": "Interview", "t": 12.46}, "en") == "Interview · 12.5 s"
    assert face_label({"title": "Walk", "t": None}, "en") == "Walk · 0.0 s"


def test_the_person_picked_is_found_among_named_and_suggested_only():
    from ui.people import find_person

    assert find_person(LISTING, 7) is MINA and find_person(LISTING, 9) is SOMEONE
    assert find_person(LISTING, 8) is None and find_person(LISTING, "7") is None


def test_merge_offers_everyone_and_search_offers_the_named_after_anyone():
    from ui.people import name_choices

    merge, search = name_choices(LISTING, "en")
    assert [value for _, value in merge] == [7, 9]
    assert search == [("Anyone", ""), ("Mina", "Mina")]
    assert name_choices({"people": [], "suggested": []}, "ko")[1] == [("누구나", "")]


def test_a_heading_escapes_the_name_a_person_typed():
    from ui.people import heading

    shown = heading({**MINA, "name": "<img src=x onerror=alert(1)>"}, "en")
    assert shown.startswith("### &lt;img src=x onerror=alert(1)&gt;\n") and "<img" not in shown
    assert heading(SOMEONE, "en") == "### Someone not named yet\nSomeone · 1 scene(s) in 1 video(s)"


def test_a_gallery_keeps_order_and_puts_a_placeholder_where_a_picture_is_missing():
    from PIL import Image

    from ui.people import gallery

    shown = gallery([MINA, SOMEONE], ["/tmp/mina.jpg", None], lambda p: str(p["person_id"]))
    assert shown[0] == ("/tmp/mina.jpg", "7")
    assert isinstance(shown[1][0], Image.Image) and shown[1][1] == "9"


def test_the_player_marks_only_the_open_video_and_plays_the_clicked_one():
    from ui.player import marks_in, position, timeline

    results = [_moment("a", 10), _moment("b", 3), _moment("a", 40)]
    assert [m["start_s"] for m in marks_in(results, "a")] == [10, 40]
    assert position("2", results) == 2 and position(9, results) == 2 and position("x", results) == 0
    assert position(-3, results) == 0
    strip = timeline(marks_in(results, "a"), 100.0, 10.0, "en")
    assert strip.count("<button") == 2 and strip.count(" now") == 1 and "left:10.00%" in strip
    assert timeline([], 100.0, 0.0, "en") == "" and timeline(results, 0.0, 0.0, "en") == ""


def test_a_share_link_opens_its_scene_from_its_second_with_no_reason_claimed():
    from ui.player import shared_moment

    found = {
        "video": {"video_id": "v1", "title": "Talk"},
        "scene": {"scene_id": 5, "start_s": 4.0, "end_s": 9.5, "caption": "A man speaking."},
    }
    moment = shared_moment(found, 6.25)
    assert (moment["video_id"], moment["start_s"], moment["scene_start_s"], moment["end_s"]) == ("v1", 6.25, 4.0, 9.5)
    assert moment["scene_ids"] == [5] and moment["channels"] == {} and moment["tags"] == []


def test_faces_in_a_moment_are_named_or_asked_about():
    from ui.player import faces_shown

    opened = {"faces": [{"picture": "/tmp/f.jpg", "name": "Mina"}, {"picture": None, "name": None}]}
    shown = faces_shown(opened, "en")
    assert shown[0] == ("/tmp/f.jpg", "Mina") and shown[1][1] == "Who is this?"
    assert faces_shown(None, "en") == []


def test_the_reason_shown_is_the_evidence_with_its_source():
    from ui.player import evidence, with_whom

    tagged = {"tags": ["man"], "tag_evidence": [{"tag": "man", "confidence": 0.94, "source": "face"}]}
    assert evidence(tagged) == "man 0.94 (face)"
    assert evidence({"tags": ["car"], "tag_evidence": []}) == "car"
    seen = {"people": ["Mina", "Joon"], "on_screen": {"Mina": [[0.7, 4.7]]}}
    assert with_whom(seen) == "Mina (on screen 0.7–4.7 s), Joon"


def test_a_public_link_is_shown_only_while_it_is_on():
    from ui.player import public_html

    assert public_html(None, "en") == ""
    shown = public_html({"url": "/p/abc'<", "start_s": 61, "end_s": 75}, "en")
    assert "1:01" in shown and "1:15" in shown and "/p/abc&#x27;&lt;" in shown and "abc'<" not in shown


def test_cards_show_each_moment_with_its_own_picture_escaped():
    from ui.cards import cards

    shown = cards([_moment("a", 10), _moment("b", 3, picture=None)], ["/still/a?s=1", None], "en")
    assert shown.count("<article") == 2 and "/still/a?s=1" in shown and "no-picture" in shown
    assert "Interview &lt;b&gt;" in shown and "Interview <b>" not in shown
    assert shown.count("strong match · 72%") == 2  # the tier and the calibrated score


def test_a_correction_and_an_unknown_name_are_said_in_both_languages():
    from ui.cards import nothing_found, searched_for

    assert searched_for(None, "bicycle", "en") == ""
    assert "“bicycle”" in searched_for("bicycle", "bycicle", "en") and "bycicle" in searched_for(
        "bicycle", "bycicle", "en"
    )
    assert "bycicle" in searched_for("bicycle", "bycicle", "ko") and "입력" in searched_for("bicycle", "bycicle", "ko")
    assert "No one called “Sora”" in nothing_found("Sora", (), False, "en", ("Sora",))
    assert "“소라”(이)라는 사람이 없습니다" in nothing_found("소라", (), True, "ko", ("소라",))
    assert "&lt;i&gt;" in nothing_found("<i>", (), False, "en", ("<i>",))


def test_nothing_found_suggests_the_other_language_and_the_channels_picked():
    from ui.cards import nothing_found

    english = nothing_found("giraffe", (), False, "en")
    korean = nothing_found("기린", ("ocr",), True, "en")
    assert "giraffe" in english and "Korean" in english
    assert "English" in korean and "screen text" in korean.lower()
    assert "<script>" not in nothing_found("<script>", (), False, "en")


def test_no_one_called_is_said_above_what_was_found_escaped():
    from ui.cards import no_one_called

    assert no_one_called((), "en") == ""
    assert "No one called “Sora”" in no_one_called(("Sora",), "en")
    assert "&lt;b&gt;" in no_one_called(("<b>",), "ko") and "<b>" not in no_one_called(("<b>",), "ko")


def _video(video_id: str, title: str, created: str, state: str = "indexed", duration: float = 60.0) -> dict:
    return {
        "video_id": video_id,
        "title": title,
        "state": state,
        "progress": 0.4,
        "stage": "transcribe",
        "scene_count": 3,
        "duration_s": duration,
        "created_at": created,
        "error": None,
        "poster": f"/still/{video_id}?s=1",
    }


LIBRARY = [
    _video("a", "Beach day", "2026-12-03T10:00:00+00:00", duration=30),
    _video("b", "alps trip", "2026-12-02T23:30:00+00:00", state="processing", duration=90),
    _video("c", "Concert", "2026-11-20T08:00:00+00:00", state="failed", duration=10),
]


def test_the_library_sorts_filters_and_groups_by_the_viewers_day():
    from ui.library import arranged, grid

    assert [v["title"] for v in arranged(LIBRARY, "title", "")] == ["alps trip", "Beach day", "Concert"]
    assert [v["title"] for v in arranged(LIBRARY, "length", "")] == ["alps trip", "Beach day", "Concert"]
    assert [v["title"] for v in arranged(LIBRARY, "oldest", "")] == ["Concert", "alps trip", "Beach day"]
    assert [v["title"] for v in arranged(LIBRARY, "newest", "TRIP")] == ["alps trip"]
    in_seoul = grid(LIBRARY, "newest", "", "en", offset_min=9 * 60)  # 23:30 UTC on the 2nd is the 3rd in Seoul
    days = [chunk.split("</h2>")[0] for chunk in in_seoul.split("<h2>")[1:]]
    assert len(days) == 2 and days[1] == "11/20/2026"
    assert in_seoul.index("alps trip") < in_seoul.index("Concert")
    assert "No video title has" in grid(LIBRARY, "newest", "nothing like it", "en")


def test_the_viewers_offset_is_a_number_within_the_worlds():
    from ui.library import viewer_offset

    assert viewer_offset(540) == 540 and viewer_offset("-300.0") == -300
    assert viewer_offset(10**9) == 14 * 60 and viewer_offset("nan-ish") == 0 and viewer_offset(None) == 0


def test_a_cards_menu_offers_only_what_applies_in_plain_words_and_both_languages():
    from ui.library import video_card

    busy, ready = video_card(LIBRARY[1], "en"), video_card(LIBRARY[0], "en")
    assert "data-action='cancel'" in busy and "data-action='reindex'" not in busy
    assert "data-action='cancel'" not in ready and "data-action='reindex'" in ready
    assert "listening to speech · 40%" in busy and "transcribe" not in busy
    assert "음성 듣는 중" in video_card(LIBRARY[1], "ko") and "장면 3개" in video_card(LIBRARY[0], "ko")
    assert "alt='Beach day'" in ready and "<button type='button' class='play' data-for='a'>Beach day</button>" in ready


def test_stages_that_run_at_once_are_all_said_each_once():
    from ui.library import doing, video_card

    both = video_card({**LIBRARY[1], "stage": "transcribe, frames"}, "en")
    assert "listening to speech, looking at scenes · 40%" in both and "waiting" not in both
    assert doing("ocr, visual", "ko") == "화면 글자 읽는 중, 장면 보는 중"
    assert doing("visual, keyframes", "en") == "looking at scenes"  # one plain phrase for both
    assert doing(None, "en") == doing("", "en") == doing("<script>", "en") == "waiting to start"


def test_a_card_names_its_own_moment_and_is_found_by_it_not_by_position():
    from ui.cards import cards
    from ui.player import same_moment

    found = [_moment("v1", 10.0), _moment("v2", 50.0)]
    shown = cards(found, [m["picture"] for m in found], "en")
    assert "data-video='v2' data-start='50.000'" in shown
    assert same_moment(found, "v2", 50.0) == 1
    assert same_moment(list(reversed(found)), "v2", 50.0) == 0  # the list changed: the same moment is still found
    assert same_moment(found, "v3", 50.0) is None and same_moment(found, "v2", "50") is None


def test_what_was_seen_is_said_in_the_pages_language():
    from ui.cards import what_matched

    seen = _moment("v1", 1.0, channels={"visual": 0.8}, transcript_snippet="", tags=["red car"], caption="A red car.")
    assert "red car" in what_matched(seen, "en")[1]
    where, words = what_matched(seen, "ko")
    assert where == "장면" and "빨간 자동차" in words


@pytest.mark.parametrize(
    ("headers", "answered"),
    [
        ({"sec-fetch-site": "same-origin", "host": "heimdex.example"}, True),
        ({"sec-fetch-site": "same-site", "origin": "https://other.heimdex.example"}, False),  # a sibling subdomain
        ({"sec-fetch-site": "cross-site", "origin": "https://evil.example"}, False),
        ({"origin": "http://localhost:8000", "host": "localhost:7860"}, False),  # another port of localhost
        ({"origin": "http://localhost:7860", "host": "localhost:7860"}, True),  # a browser without Sec-Fetch-Site
        ({"host": "localhost:7860"}, True),  # no Origin: not a cross-site page's fetch
    ],
)
def test_only_the_apps_own_pages_renew_from_the_cookie(headers, answered):
    """The refresh cookie goes with every same-site request; Gradio's CORS lets other origins read answers: a
    renewal answers a page of this app only."""
    import gradio as gr

    from ui.common import same_origin

    assert same_origin(gr.Request(headers=headers)) is answered

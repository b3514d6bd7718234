"""Unit tests: pure logic, no database, no media, no launched process (``make test-fast`` runs these)."""

from __future__ import annotations

import time
import uuid

import pytest

from heimdex.app.links import LinkRefused, Purpose, sign, verify
from heimdex.models.types import Word
from heimdex.pipeline.align import align_words
from heimdex.pipeline.index import Shot, Span
from heimdex.pipeline.scenes import build_scenes
from heimdex.search.fusion import Fused
from heimdex.search.query import parse_query
from heimdex.search.results import build_moments

pytestmark = pytest.mark.unit

SECRET = b"k" * 32


def test_long_shots_split_at_speech_pauses():
    words = [Word(f"w{i}", i * 0.5, i * 0.5 + 0.4) for i in range(100)]  # 50 s of steady speech ...
    words = [
        w for w in words if not 15.0 <= w.start < 16.5
    ]  # ... with one pause, 14.9-16.5 s, near the first window edge
    scenes = build_scenes([Shot(0.0, 50.0, "start")], words)
    assert len(scenes) == 3
    assert scenes[0].end_s == pytest.approx((14.9 + 16.5) / 2)
    for scene in scenes[1:]:  # no pause near the other window edge: the cut avoids the middle of a word
        assert not any(w.start < scene.start_s < w.end for w in words)


def test_short_shots_merge_and_everything_stays_covered():
    shots = [Shot(0.0, 5.0, "start"), Shot(5.0, 5.4, "cut"), Shot(5.4, 12.0, "cut"), Shot(12.0, 13.0, "cut")]
    scenes = build_scenes(shots, [])
    assert [(s.start_s, s.end_s) for s in scenes] == [(0.0, 5.4), (5.4, 13.0)]


def test_words_go_to_the_scene_holding_their_midpoint():
    scenes = [Span(0.0, 10.0), Span(10.0, 20.0)]
    sentence = [Word("ask", 9.0, 9.5), Word("not", 9.9, 10.4), Word("what", 10.3, 10.6), Word("you", 19.9, 20.5)]
    first, second = align_words(scenes, sentence)
    assert [w.text for w in first] == ["ask"]
    assert [w.text for w in second] == ["not", "what", "you"]  # split at the cut, nothing lost, times kept
    assert second[0].start == 9.9


def test_query_understanding_pulls_out_names_phrases_and_language():
    parsed = parse_query('민지가 "안녕하세요" 손을 흔드는 장면', ["민지", "Jisoo"])
    assert parsed.people == ("민지",) and parsed.phrases == ("안녕하세요",) and parsed.language == "ko"
    assert "민지" not in parsed.text and "손을" in parsed.text
    assert parse_query("Jisoo waving at night", ["민지", "Jisoo"]).people == ("Jisoo",)
    assert parse_query("red car at night").language == "en"


def test_adjacent_scenes_of_one_moment_merge():
    video = uuid.uuid4()
    details = {
        i: {
            "id": i,
            "video_id": video,
            "idx": i,
            "start_s": 10.0 * i,
            "end_s": 10.0 * (i + 1),
            "words": [],
            "ocr_text": "",
            "tags": [],
            "caption": "",
            "keyframe_key": None,
            "title": "t",
            "filename": "f.mp4",
        }
        for i in range(4)
    }
    hits = [Fused(0, 0.9, {"tags_vec": 0.9}), Fused(1, 0.5, {"tags_vec": 0.5}), Fused(3, 0.7, {"tags_vec": 0.7})]
    moments = build_moments(hits, details, parse_query("car"), [])
    assert [(m.start_s, m.end_s, m.score) for m in moments] == [(0.0, 20.0, 0.9), (30.0, 40.0, 0.7)]


def test_signed_links_name_their_purpose_and_refuse_tampering_other_users_and_expiry():
    """A link signs purpose, user, video, session, expiry and scope: change any and it opens nothing."""
    user, video, other = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    query = dict(part.split("=") for part in sign(SECRET, Purpose.CLIP, user, video, 7, "1.00-5.00", 60).split("&"))
    link = (query["u"], query["k"], query["e"], query["s"])
    grant = verify(SECRET, Purpose.CLIP, str(video), *link, "1.00-5.00")
    assert (grant.user_id, grant.video_id, grant.session_id, grant.scope) == (user, video, 7, "1.00-5.00")
    flipped = query["s"][:-1] + ("0" if query["s"][-1] != "0" else "1")
    for purpose, video_id, u, k, e, s, scope in [
        (Purpose.CLIP, str(video), query["u"], query["k"], query["e"], flipped, "1.00-5.00"),
        (Purpose.CLIP, str(video), str(other), query["k"], query["e"], query["s"], "1.00-5.00"),
        (Purpose.CLIP, str(other), query["u"], query["k"], query["e"], query["s"], "1.00-5.00"),
        (Purpose.CLIP, str(video), query["u"], "8", query["e"], query["s"], "1.00-5.00"),  # another session
        (Purpose.CLIP, str(video), query["u"], query["k"], str(int(query["e"]) + 3600), query["s"], "1.00-5.00"),
        (Purpose.CLIP, str(video), query["u"], query["k"], "soon", query["s"], "1.00-5.00"),
        (Purpose.CLIP, str(video), query["u"], query["k"], query["e"], query["s"], "0.00-120.00"),  # a wider range
        (Purpose.MEDIA, str(video), query["u"], query["k"], query["e"], query["s"], "1.00-5.00"),  # the whole video
        (Purpose.STILL, str(video), query["u"], query["k"], query["e"], query["s"], "1.00-5.00"),
        (Purpose.CAPTIONS, str(video), query["u"], query["k"], query["e"], query["s"], "1.00-5.00"),
    ]:
        with pytest.raises(LinkRefused):
            verify(SECRET, purpose, video_id, u, k, e, s, scope)
    with pytest.raises(LinkRefused, match="expired"):
        verify(SECRET, Purpose.CLIP, str(video), *link, "1.00-5.00", now=time.time() + 120)
    with pytest.raises(LinkRefused):
        verify(b"another secret", Purpose.CLIP, str(video), *link, "1.00-5.00")


def test_a_failed_model_call_reaches_every_caller_it_carried():
    from heimdex.models.batching import Coalescer

    def encode(batch: list[str]):
        raise ValueError("the model broke")

    with pytest.raises(ValueError, match="the model broke"):
        Coalescer(encode)(["one", "two"])


def test_a_query_reads_appearance_in_english_and_korean():
    english = parse_query("a man in a red shirt").appearance
    assert english[0] == (("man", 1.0),)
    best = dict(english[1])
    assert best["man in a red shirt"] == 1.0 and best["red shirt"] < 1.0 and best["red top"] < best["red shirt"]
    assert set(parse_query("빨간 셔츠를 입은 남자").appearance) == set(english)
    units = set(parse_query("two women in a parking lot").appearance)
    assert units == {(("parking lot", 1.0),), (("two women", 1.0),), (("woman", 1.0),)}
    assert parse_query("the video of the meeting").appearance == ()


def test_subtitles_break_at_sentences_pauses_and_length_and_escape_markup():
    from heimdex.library.subtitles import MAX_LINE_WORDS, lines, srt, webvtt

    words = [("And", 2.0, 2.2), ("so,", 2.2, 2.5), ("my", 2.6, 2.8), ("fellow", 2.8, 3.1), ("Americans.", 3.1, 3.9)]
    words += [("ask", 6.0, 6.3), ("<b>not</b>", 6.3, 6.6)]  # a pause of 2 s first
    words += [(f"w{i}", 10 + i * 0.2, 10.1 + i * 0.2) for i in range(MAX_LINE_WORDS + 3)]
    found = lines(reversed(words))  # order of time, whatever order they come in
    assert [line.text for line in found[:2]] == ["And so, my fellow Americans.", "ask <b>not</b>"]
    assert (found[0].start_s, found[0].end_s) == (2.0, 3.9)
    assert len(found) == 4 and len(found[2].text.split()) == MAX_LINE_WORDS
    vtt = webvtt(found)
    assert vtt.startswith("WEBVTT\n\n00:00:02.000 --> 00:00:03.900\nAnd so, my fellow Americans.\n")
    assert "ask &lt;b&gt;not&lt;/b&gt;" in vtt and "<b>" not in vtt
    assert srt(found).startswith("1\n00:00:02,000 --> 00:00:03,900\nAnd so, my fellow Americans.\n\n2\n00:00:06,000")
    assert lines([]) == [] and webvtt([]) == "WEBVTT\n\n"
    assert webvtt(lines([("long", 3725.5, 3726.0)])).splitlines()[2] == "01:02:05.500 --> 01:02:06.000"


def test_a_result_index_from_the_page_is_clamped_and_never_trusted():
    from ui.player import position

    results = ["a", "b", "c"]
    assert [position(i, results) for i in (0, 2, 7, -4, "1", "x", None, "1e9", 2.0)] == [0, 2, 2, 0, 1, 0, 0, 0, 0]


def test_the_callers_address_comes_from_a_trusted_proxy_only():
    from heimdex.app.inputs import client_address

    forged = "203.0.113.9, 198.51.100.7"
    assert client_address("127.0.0.1", forged, "") == "127.0.0.1"  # no proxy trusted: the peer
    assert client_address("127.0.0.1", None, "127.0.0.1") == "127.0.0.1"
    assert client_address("10.0.0.5", forged, "10.0.0.0/8") == "198.51.100.7"  # what the proxy saw, not the client
    assert client_address("10.0.0.5", "198.51.100.7, 10.0.0.9", "10.0.0.0/8") == "198.51.100.7"  # two proxies
    assert client_address("192.0.2.1", forged, "10.0.0.0/8") == "192.0.2.1"  # a peer that is no proxy of ours
    assert client_address("10.0.0.5", forged, "*") == "198.51.100.7"  # a Space: one proxy, its last entry
    assert client_address("10.0.0.5", "not-an-address", "nonsense, 10.0.0.0/8") == "not-an-address"


@pytest.mark.parametrize(
    ("password", "email", "name"),
    [
        ("abababababab", "ada@example.com", ""),
        ("qwe1qwe1qwe1", "ada@example.com", ""),
        ("lovelace1234", "ada.lovelace@example.com", ""),
        ("AdaLovelace!!", "someone@example.com", "Ada Lovelace"),
        ("minji2024", "kim@example.com", "Minji"),
    ],
)
def test_passwords_of_a_repeated_piece_or_of_ones_own_name_are_refused(password, email, name):
    from heimdex.auth.passwords import check_strength
    from heimdex.errors import BadInput

    with pytest.raises(BadInput) as refused:
        check_strength(password, email, name)
    assert refused.value.code == "weak_password"


def test_good_passwords_still_pass():
    from heimdex.auth.passwords import check_strength

    for password, email, name in [
        ("correct horse battery", "user-1a2b3c4d@example.com", "user-1a2b3c4d"),
        ("minji loves rainy tuesdays", "kim@example.com", "Minji"),
        ("a new and better passphrase", "ada@example.com", "Ada"),
    ]:
        check_strength(password, email, name)

"""Subtitles, pure: where lines break, how words are cleaned, and the WebVTT and SubRip text (timestamps, escaping).

tests/test_units.py covers the common case (a sentence, a pause, a long run, markup); these are the edges.
"""

from __future__ import annotations

import pytest

from heimdex.library.subtitles import MAX_LINE_S, MAX_LINE_WORDS, PAUSE_S, Line, _time, lines, srt, webvtt

pytestmark = pytest.mark.unit


def texts(found: list[Line]) -> list[str]:
    return [line.text for line in found]


def test_a_pause_of_exactly_the_limit_keeps_the_line_and_a_longer_one_breaks_it():
    assert lines([("a", 0.0, 0.5), ("b", 0.5 + PAUSE_S, 2.0)]) == [Line(0.0, 2.0, "a b")]
    assert lines([("a", 0.0, 0.5), ("b", 0.5 + PAUSE_S + 0.01, 2.0)]) == [
        Line(0.0, 0.5, "a"),
        Line(0.5 + PAUSE_S + 0.01, 2.0, "b"),
    ]


def test_a_line_may_last_the_limit_but_not_longer():
    assert texts(lines([("a", 0.0, 3.0), ("b", 3.0, MAX_LINE_S)])) == ["a b"]
    assert texts(lines([("a", 0.0, 3.0), ("b", 3.0, MAX_LINE_S + 0.1)])) == ["a", "b"]


def test_a_line_holds_at_most_the_word_limit():
    words = [(f"w{i}", i * 0.1, i * 0.1 + 0.05) for i in range(2 * MAX_LINE_WORDS + 1)]
    assert [len(line.text.split()) for line in lines(words)] == [MAX_LINE_WORDS, MAX_LINE_WORDS, 1]


@pytest.mark.parametrize("end", ["done.", "really?", "wow!", "so…", "wait...", "끝。", "정말？", "와！"])
def test_sentences_end_lines_in_latin_and_cjk_punctuation(end):
    assert texts(lines([(end, 0.0, 0.5), ("next", 0.5, 1.0)])) == [end, "next"]


@pytest.mark.parametrize("not_end", ["so,", "well;", 'quote"', "(aside)", "다"])
def test_other_punctuation_does_not_end_a_line(not_end):
    assert texts(lines([(not_end, 0.0, 0.5), ("next", 0.5, 1.0)])) == [f"{not_end} next"]


def test_blank_words_are_dropped_and_words_are_trimmed():
    assert lines([("  ", 0.0, 1.0), ("", 1.0, 2.0), (" hi ", 2.0, 2.5)]) == [Line(2.0, 2.5, "hi")]
    assert lines([(" ", 0.0, 1.0)]) == []


def test_a_word_ending_before_it_starts_ends_where_it_starts():
    assert lines([("odd", 2.0, 1.5)]) == [Line(2.0, 2.0, "odd")]


def test_a_line_ends_with_its_latest_word_and_equal_starts_keep_their_order():
    assert lines([("b", 1.0, 2.0), ("a", 1.0, 1.5)]) == [Line(1.0, 2.0, "b a")]


def test_korean_words_join_with_spaces():
    words = [("안녕하세요,", 0.0, 0.8), ("여러분.", 0.8, 1.4), ("시작합니다", 1.5, 2.2)]
    assert lines(iter(words)) == [Line(0.0, 1.4, "안녕하세요, 여러분."), Line(1.5, 2.2, "시작합니다")]


@pytest.mark.parametrize(
    ("seconds", "vtt", "srt_time"),
    [
        (0.0, "00:00:00.000", "00:00:00,000"),
        (-5.0, "00:00:00.000", "00:00:00,000"),  # never before the start
        (1.2344, "00:00:01.234", "00:00:01,234"),
        (59.9996, "00:01:00.000", "00:01:00,000"),  # rounds up across the minute
        (3599.9996, "01:00:00.000", "01:00:00,000"),
        (36000.0, "10:00:00.000", "10:00:00,000"),
        (360000.0, "100:00:00.000", "100:00:00,000"),  # hours grow past two digits
    ],
)
def test_timestamps(seconds, vtt, srt_time):
    assert _time(seconds, ".") == vtt and _time(seconds, ",") == srt_time


def test_webvtt_escapes_markup_and_arrows_in_cue_text():
    text = webvtt([Line(0.0, 1.0, "a --> b & <i>c</i>")])
    assert text == "WEBVTT\n\n00:00:00.000 --> 00:00:01.000\na --&gt; b &amp; &lt;i&gt;c&lt;/i&gt;\n"


def test_webvtt_cues_are_separated_by_a_blank_line():
    text = webvtt([Line(0.0, 1.0, "one"), Line(2.0, 3.5, "two")])
    assert text == "WEBVTT\n\n00:00:00.000 --> 00:00:01.000\none\n\n00:00:02.000 --> 00:00:03.500\ntwo\n"


def test_srt_numbers_cues_and_breaks_only_the_arrow():
    text = srt([Line(0.0, 1.0, "a --> b"), Line(61.5, 62.25, "<i>x</i> & y")])
    assert text == "1\n00:00:00,000 --> 00:00:01,000\na -> b\n\n2\n00:01:01,500 --> 00:01:02,250\n<i>x</i> & y\n"
    assert srt([]) == ""


def test_a_line_as_a_dict_is_rounded_to_milliseconds():
    assert Line(1.23456, 2.0004, "x").as_dict() == {"start_s": 1.235, "end_s": 2.0, "text": "x"}

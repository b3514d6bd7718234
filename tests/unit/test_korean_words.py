"""Scene words in Korean, pure: every tag the taggers can make has a Korean name, compounds compose from the one
vocabulary, English stays as it is, and a caption is the same mention said in either language."""

from __future__ import annotations

import ast
import itertools
import re
from pathlib import Path

import numpy as np
import pytest

from heimdex.models.types import COCO_LABELS, Detection, Tag
from heimdex.perception.actions import ACTIONS
from heimdex.perception.attributes import lighting
from heimdex.perception.caption import Mention, caption, english, parse, select
from heimdex.perception.korean import (
    COLOUR_NAMES,
    NAMES,
    describe,
    korean,
    korean_words,
    scene_words,
    tag_name,
)
from heimdex.perception.objects import RIDING, SAME_AS, riders
from heimdex.perception.people import EXPRESSION_WORDS, Clothing, Person, _noun
from heimdex.perception.places import INDOOR, OUTDOOR, RULES
from heimdex.perception.tags import person_tags
from heimdex.perception.wear import glasses, hard_hat, vest
from heimdex.perception.words import (
    ACTIONS_KOREAN,
    CARRIED,
    COLOURS,
    EXPRESSIONS_KOREAN,
    GARMENTS,
    GENERIC,
    HELD,
    KOREAN,
    KOREAN_SHOWN,
    PERSON_NOUNS,
    RIDDEN,
    WORN,
    article,
    plural,
)

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
LATIN = re.compile(r"[A-Za-z]")
HANGUL = re.compile(r"[\uac00-\ud7a3]")


def _zero_shot_tags() -> tuple[str, ...]:
    """CLIP's zero-shot vocabulary, read from its module's source: importing heimdex.models.clip loads the ZeroGPU
    package where it is installed, which a pure test should not."""
    tree = ast.parse((ROOT / "heimdex" / "models" / "clip.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", "") == "ZERO_SHOT_TAGS" for t in node.targets):
            return ast.literal_eval(node.value)
    raise AssertionError("ZERO_SHOT_TAGS is gone from heimdex/models/clip.py")


def _pixels(rgb: tuple[int, int, int], n: int) -> np.ndarray:
    return np.tile(np.array(rgb, dtype=np.uint8), (n, 1))


def _labels() -> set[str]:
    """Every thing a detector or the concepts model is known to name: the COCO detector's labels as find_objects
    renames them, CLIP's zero-shot words, and the concepts (ImageNet) labels the code reads garments, worn things and
    places from."""
    labels = {SAME_AS.get(label, label) for label in COCO_LABELS if label} | set(_zero_shot_tags())
    labels |= {label for rule in RULES.values() for label, _ in rule} - {"chairs", "cars", "people"}  # counts, no tag
    return labels | INDOOR | OUTDOOR | set(GARMENTS) | set(WORN)


def _people() -> list[Person]:
    """People as describe_people fills them in: every noun the faces give, every garment in every colour (and none),
    and every extra the taggers add (expressions, worn things, things carried, held, ridden, glasses, hard hats)."""
    nouns = {_noun(woman, age) for woman in (False, True) for age in (8, 30, 70)} | {"person"}
    garments = {(garment, part) for garment, part in GARMENTS.values()} | {(g, p) for p, g in GENERIC.items()}
    hivis = vest(
        np.concatenate([_pixels((255, 90, 20), 300), _pixels((230, 230, 225), 15), _pixels((60, 70, 120), 685)])
    )
    hat = hard_hat(_pixels((250, 210, 20), 200))
    assert hivis is not None and hat is not None
    garments.add((hivis.thing, "upper"))
    extras = [word for words in EXPRESSION_WORDS.values() for word in words]
    extras += [f"with {article(thing)}" for thing in WORN.values()]
    extras += [f"with {article(thing)}" for thing in CARRIED] + [f"holding {article(thing)}" for thing in HELD]
    extras += [f"on {article(thing)}" for thing in RIDDEN]
    extras += [f"with {seen.words}" for seen in (glasses([("sunglasses", p)]) for p in (0.3, 0.9)) if seen]
    extras += [f"with {article(f'{colour} {hat.thing}')}" for colour in COLOURS] + [f"with {article(hat.thing)}"]
    people = [
        Person((0, 0, 1, 1), 0.9, noun, 0.9, [Clothing(part, colour, garment, 0.8)])
        for noun in nouns
        for garment, part in garments
        for colour in (None, *COLOURS)
    ]
    worn = [Tag(w, 0.8, "vest colour") for w in (hivis.thing, "safety vest", *(f"{c} vest" for c in COLOURS))]
    worn += [Tag(w, 0.8, "head colour") for w in (hat.thing, *(f"{c} {hat.thing}" for c in COLOURS))]
    for noun in nouns:
        dressed = [Clothing("upper", "blue", "t-shirt", 0.8), Clothing("lower", "black", "trousers", 0.8)]
        people += [Person((0, 0, 1, 1), 0.9, noun, 0.9, dressed, [(extra, 0.8)], worn) for extra in extras]
        people.append(Person((0, 0, 1, 1), 0.9, noun, 0.9, dressed, [(extra, 0.8) for extra in extras]))
    return people


def vocabulary() -> set[str]:
    """Every tag the taggers can make, from their own tables and functions."""
    labels = _labels()
    tags = set(labels) | {f"{colour} {label}" for colour in COLOURS for label in labels}
    tags |= {plural(label, n) for label in labels | {"person"} for n in range(2, 7)} | {"several people"}
    tags |= {tag.tag for person in _people() for tag in person_tags([person])}
    nouns = [p.noun for p in _people()[:1]] + ["man", "woman", "boy", "girl", "elderly man", "elderly woman"]
    for a, b in itertools.product(nouns, repeat=2):  # who is there together: 'a man and a woman', 'two women'
        pair = [Person((0, 0, 1, 1), 0.9, a, 0.9), Person((0, 0, 1, 1), 0.9, b, 0.9)]
        tags |= {tag.tag for tag in person_tags(pair)}
    ridden = [Detection(thing, 0.9, (0.2, 0.5, 0.8, 0.9)) for thing in RIDDEN]
    for thing in ridden:
        for words, _ in riders([Detection("person", 0.9, (0.25, 0.1, 0.75, 0.8)), thing]):
            tags |= {words, f"person {words}", RIDING}  # as pipeline.visual.tag_scene adds them
    tags |= set(RULES) | {"indoors", "outdoors"} | set(ACTIONS)
    dark = np.zeros((64, 64, 3), dtype=np.uint8)
    dark[:2, :2] = 255  # a light in the dark: night
    tags |= {name for image in (dark, np.full((64, 64, 3), 230, np.uint8)) for name, _ in lighting(image)}
    return tags


def test_every_tag_the_taggers_can_make_has_a_korean_name_in_hangul():
    tags = vocabulary()
    assert len(tags) > 3000 and {"riding a bicycle", "person riding a bicycle", "at night", "bright"} <= tags
    unsaid = sorted(t for t in tags if not (korean_words(t) or "") or LATIN.search(korean_words(t) or ""))
    assert unsaid == []
    assert all(HANGUL.search(tag_name(t, "ko")) for t in tags)


@pytest.mark.parametrize(
    ("tag", "said"),
    [
        ("red car", "빨간 자동차"),
        ("man", "남자"),
        ("person riding a bicycle", "자전거를 탄 사람"),
        ("riding a bicycle", "자전거 타기"),
        ("hard hat", "안전모"),
        ("yellow hard hat", "노란 안전모"),
        ("orange", "오렌지"),  # the fruit: a colour alone is never a tag
        ("orange vest", "주황 조끼"),
        ("elderly woman", "나이 든 여자"),
        ("three chairs", "의자 세 개"),
        ("two men", "남자 두 명"),
        ("two cars", "자동차 두 대"),
        ("two dogs", "개 두 마리"),
        ("two people", "두 사람"),
        ("several people", "여러 사람"),
        ("many cars", "많은 자동차"),
        ("crowd", "군중"),
        ("a man and a woman", "남자와 여자"),
        ("smiling", "웃는 얼굴"),
        ("man smiling", "웃는 남자"),
        ("waving", "손 흔들기"),
        ("person in black", "검은 옷을 입은 사람"),
        ("man in a black suit and black trousers", "검은 정장과 검은 바지를 입은 남자"),  # 과 after a consonant
        ("woman in a grey coat and blue jeans", "회색 코트와 파란 청바지를 입은 여자"),  # 와 after a vowel
        ("person with a backpack", "배낭을 멘 사람"),
        ("with glasses", "안경을 쓴 사람"),
        (
            "person in an orange high-visibility vest and blue jeans, with a yellow hard hat",
            "주황 형광 조끼와 파란 청바지를 입고 노란 안전모를 쓴 사람",
        ),
        ("a group of people", "사람들 무리"),
        ("Windsor tie", "넥타이"),  # concept labels keep their capitals
    ],
)
def test_tag_names_in_korean(tag, said):
    assert tag_name(tag, "ko") == said


def test_a_colour_and_a_thing_compose_from_the_colour_and_thing_words():
    for colour, thing in itertools.product(COLOURS, ("car", "t-shirt", "traffic light", "bottle", "hard hat")):
        assert tag_name(f"{colour} {thing}", "ko") == f"{COLOUR_NAMES[colour]} {NAMES[thing]}"
    assert COLOUR_NAMES["red"] == "빨간" and KOREAN[COLOUR_NAMES["red"]] == "red"  # the query table's own word
    assert NAMES["car"] == "자동차" and KOREAN[NAMES["car"]] == "car"


@pytest.mark.parametrize("lang", ["en", None, "", "fr", "english"])
def test_english_and_other_languages_keep_the_tags(lang):
    tags = [Tag("man in a blue t-shirt", 0.9, "person"), Tag("outdoors", 0.7, "place: car"), Tag("car", 0.8, "objects")]
    assert tag_name("red car", lang) == "red car"
    assert describe(tags, lang) == caption(tags) == "A man in a blue t-shirt, outdoors. Also seen: a car."
    assert scene_words("A **man**. Also seen: a car.", ["man", "car"], lang) == (
        "A **man**. Also seen: a car.",
        ["man", "car"],
    )


@pytest.mark.parametrize("lang", ["ko", "ko-KR", "KO"])
def test_korean_is_any_korean_locale(lang):
    assert tag_name("red car", lang) == "빨간 자동차"


@pytest.mark.parametrize(
    "tag", ["golden retriever", "red golden retriever", "two golden retrievers", "man in a tuxedo", "man juggling", ""]
)
def test_a_tag_korean_cannot_say_whole_stays_english(tag):
    assert korean_words(tag) is None
    assert tag_name(tag, "ko") == tag


def test_a_thing_without_a_korean_word_stays_english_inside_the_korean_sentence():
    tags = [Tag("golden retriever", 0.8, "concepts"), Tag("car", 0.7, "objects")]
    assert describe(tags, "ko") == "golden retriever, 자동차."


REPRESENTATIVE = [
    Tag("man in a blue t-shirt, smiling", 0.9, "person"),
    Tag("woman in a black top and grey trousers, with a backpack", 0.8, "person"),
    Tag("two people", 0.8, "count"),
    Tag("meeting room", 0.7, "place: chairs + people"),
    Tag("waving", 0.7, "pose: hand up, moving side to side (person 1)"),
    Tag("chair", 0.9, "objects"),
    Tag("blue chair", 0.8, "colour"),
    Tag("bottle", 0.7, "objects"),
    Tag("three bottles", 0.7, "count"),
    Tag("laptop", 0.6, "objects"),
    Tag("dark", 0.6, "lighting"),
]


def test_the_korean_caption_says_what_the_english_one_says():
    assert caption(REPRESENTATIVE) == (
        "Two people: a man in a blue t-shirt, smiling and a woman in a black top and grey trousers, with a backpack, "
        "waving in a meeting room. Also seen: a blue chair, three bottles, a laptop. It is dark."
    )
    assert describe(REPRESENTATIVE, "ko") == (
        "회의실, 두 사람: 파란 티셔츠를 입고 웃는 남자와 검은 상의와 회색 바지를 입고 배낭을 멘 여자, 손을 흔드는 중. "
        "함께 보이는 것: 파란 의자, 병 세 개, 노트북. 어두운 장면."
    )


def test_people_seen_apart_a_setting_and_the_night():
    tags = [
        Tag("man in a blue t-shirt", 0.9, "person"),
        Tag("elderly woman in a red coat", 0.8, "person"),
        Tag("outdoors", 0.7, "place: car"),
        Tag("car", 0.8, "objects"),
        Tag("at night", 0.5, "lighting"),
    ]
    assert describe(tags, "ko") == (
        "야외, 파란 티셔츠를 입은 남자; 이어서 빨간 코트를 입은 나이 든 여자. 함께 보이는 것: 자동차. 어두운 밤 장면."
    )
    assert describe([Tag("person", 0.9, "objects")], "ko") == "한 사람."
    assert describe([Tag("office", 0.7, "place: desks")], "ko") == "사무실."
    assert describe([], "ko") == ""


# tag sets of every shape caption() says (tests/unit/test_scene_captions.py), and the scenes of the study library
SCENES = [
    [],
    [Tag("person", 0.9, "objects")],
    [Tag("two people", 0.8, "count")],
    [Tag("man in red", 0.9, "person"), Tag("several people", 0.8, "count"), Tag("woman in black", 0.8, "person")],
    [Tag(f"man in {c}", 0.9, "person") for c in ("red", "blue", "black", "white")],
    [Tag("man in a blue t-shirt", 0.9, "person"), Tag("sitting", 0.8, "pose"), Tag("indoors", 0.6, "place: walls")],
    [Tag("office", 0.7, "clip")],
    [Tag("man in black", 0.9, "person"), Tag("office", 0.7, "clip")],
    [Tag("parking lot", 0.7, "place: cars")],
    [Tag("a person", 0.5, "clip"), Tag("at night", 0.5, "clip"), Tag("waving", 0.5, "clip")],
    [Tag("man in black", 0.9, "person"), Tag("crowd", 0.5, "clip"), Tag("indoors", 0.5, "clip")],
    [Tag("orange", 0.9, "objects"), Tag("trousers", 0.8, "concepts")],
    [Tag("car", 0.9, "objects"), Tag("carrot", 0.8, "objects"), Tag("two carrots", 0.8, "count")],
    [Tag("car", 0.9, "objects"), Tag("dark", 0.8, "lighting"), Tag("at night", 0.8, "lighting")],
    [Tag("at night", 0.8, "lighting"), Tag("dark", 0.7, "lighting")],
    [Tag("Windsor tie", 0.6, "concepts"), Tag("car", 0.5, "objects")],
    REPRESENTATIVE,
    [
        Tag("person in an orange high-visibility vest and blue jeans, with a yellow hard hat", 0.9, "person"),
        Tag("standing", 0.8, "pose"),
    ],
    [
        Tag("person in a white top and grey trousers", 0.9, "person"),
        Tag("elderly man in a black suit and black trousers, smiling, happy", 0.8, "person"),
        Tag("indoors", 0.7, "place: television"),
        Tag("television", 0.7, "objects"),
        Tag("black television", 0.6, "colour"),
        Tag("at night", 0.5, "lighting"),
    ],
]


@pytest.mark.parametrize("tags", SCENES)
def test_a_stored_caption_reads_back_into_its_mention_and_says_it_in_korean(tags):
    said = caption(tags)
    mention = parse(said)
    assert mention is not None and english(mention) == said
    assert korean(mention) == describe(tags, "ko")
    names = list(dict.fromkeys(tag_name(t.tag, "ko") for t in tags))
    assert scene_words(said, [t.tag for t in tags], "ko") == (describe(tags, "ko"), names)


def test_a_reading_is_the_mention_the_tags_chose():
    assert parse(caption(REPRESENTATIVE)) == select(REPRESENTATIVE)
    assert parse("") == Mention()
    assert parse("A car.") == Mention(things=(("car", False),))  # a thing, never a person


@pytest.mark.parametrize(
    "text",
    ["A man in a blue t-shirt, smiling", "Also seen: a car.", "a car.", "A man in a blue t-shirt. It is dark"],
)
def test_a_caption_the_grammar_did_not_write_stays_as_written(text):
    assert parse(text) is None
    assert scene_words(text, ["man", "car"], "ko") == (text, ["남자", "자동차"])


@pytest.mark.parametrize("text", ["A man speaking.", "Two people: a car.", "A golden retriever."])
def test_a_caption_read_as_things_korean_has_no_word_for_stays_as_written(text):
    assert parse(text) is not None  # one thing, of a name the concepts model might have
    assert scene_words(text, ["man"], "ko") == (text, ["남자"])


def test_marked_words_stay_marked_in_korean():
    tags = ["blue t-shirt", "man", "man in a blue t-shirt"]
    said, names = scene_words("A **man** in a blue t-shirt, outdoors. Also seen: a car.", tags, "ko")
    assert said == "야외, **파란 티셔츠를 입은 남자**. 함께 보이는 것: 자동차."  # the longest name holding the word
    assert names == ["파란 티셔츠", "남자", "파란 티셔츠를 입은 남자"]
    said, _ = scene_words("A red car, a sofa. It is dark.", ["red car", "cow"], "ko", matched=True)
    assert said == "**빨간 자동차**, 소파. 어두운 장면."  # a query's tags; 소 is no word inside 소파
    assert scene_words("A man in a blue t-shirt.", ["man"], "ko")[0] == "파란 티셔츠를 입은 남자."  # nothing matched
    assert scene_words("", ["with a hat", "person with a hat", "hat"], "ko") == ("", ["모자를 쓴 사람", "모자"])


def test_each_english_word_has_one_owner_and_every_shown_word_is_hangul():
    translated = set(KOREAN.values()) - set(COLOURS)
    assert not set(KOREAN_SHOWN) & translated  # a word the query table says is said as it says it
    assert all(key == key.lower() for key in KOREAN_SHOWN)
    assert set(ACTIONS_KOREAN) == set(ACTIONS) | {RIDING}
    assert set(EXPRESSIONS_KOREAN) == {word for words in EXPRESSION_WORDS.values() for word in words}
    shown = [*KOREAN_SHOWN.values(), *(w for pair in ACTIONS_KOREAN.values() for w in pair)]
    shown += [w for pair in EXPRESSIONS_KOREAN.values() for w in pair]
    assert all(HANGUL.search(w) and not LATIN.search(w) for w in shown)
    assert set(PERSON_NOUNS) >= {_noun(woman, age) for woman in (False, True) for age in (8, 30, 70)} | {"person"}

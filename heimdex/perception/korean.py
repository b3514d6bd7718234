"""Scene words in the page's language: tag names and captions said in Korean, from the one vocabulary.

Tags stay English where they are made, stored and searched; a Korean page says them in
Korean when it shows them. The words come from :mod:`heimdex.perception.words` alone:
the query table ``KOREAN`` (its first Korean word for an English one is the one shown)
and ``KOREAN_SHOWN`` for tag words no query needs. What this module adds is grammar:
a colour or age before a thing ("red car" → "빨간 자동차"), counts with their counters
("three chairs" → "의자 세 개"), people with what they wear, carry or ride, their
clauses chained before the noun ("person riding a bicycle" → "자전거를 탄 사람",
"man in a blue t-shirt, smiling" → "파란 티셔츠를 입고 웃는 남자"), and particles
that follow the last syllable (를/을, 와/과). A tag it cannot say falls back to English,
whole: never half a translation.

A caption is one :class:`~heimdex.perception.caption.Mention` said in a language
(:func:`describe` from tags). A search result, though, carries only the scene's stored
English caption and the names of its matched tags, not the tags with their sources that
a mention is chosen from. The scenes table has those, but a second query per result, or
a second caption column that every stored scene would lack until indexed again, costs
more than reading the caption back: it was written by
:func:`heimdex.perception.caption.english`, whose grammar
:func:`heimdex.perception.caption.parse` reverses exactly (a reading is kept only when it
writes the same caption again). So :func:`scene_words` re-says a stored caption at
display time, marks and all, and a caption that this grammar did not write is shown as
it was written.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from heimdex.models.types import Tag
from heimdex.perception.caption import Mention, caption, parse, select
from heimdex.perception.words import (
    ACTIONS_KOREAN,
    COLOURS,
    EXPRESSIONS_KOREAN,
    KOREAN,
    KOREAN_SHOWN,
    NUMBERS,
    PERSON_NOUNS,
    PLURALS,
)

_FIRST = {english: korean for korean, english in reversed(KOREAN.items())}  # the first Korean word of each
NAMES = {english: korean for english, korean in _FIRST.items() if english not in COLOURS} | KOREAN_SHOWN
COLOUR_NAMES = {colour: _FIRST[colour] for colour in COLOURS}
MODIFIERS = COLOUR_NAMES | {"elderly": "나이 든"}  # words said before a thing
COUNTS = {number: _FIRST[number] for number in NUMBERS[2:]} | {"several": "여러", "many": "많은"}
_SINGULAR = {many: one for one, many in PLURALS.items()}
# counters: people 명, vehicles 대, animals 마리, anything else 개
_VEHICLES = {"bicycle", "motorcycle", "car", "bus", "truck", "train", "airplane", "boat", "vehicle", "streetcar"}
_ANIMALS = {"bird", "cat", "dog", "horse", "sheep", "cow", "cattle", "elephant", "bear", "zebra", "giraffe"}
# a verb stem's two forms: one of several things said of a person ("입고 ..."), and the last ("입은 남자")
_VERBS = {
    "입": ("입고", "입은"),
    "쓰": ("쓰고", "쓴"),
    "매": ("매고", "맨"),
    "메": ("메고", "멘"),
    "두르": ("두르고", "두른"),
    "들": ("들고", "든"),
    "타": ("타고", "탄"),
}
# what a person does with a thing they are 'with', by the thing's last word (anything else: 들, held)
_WORN_BY = {"hat": "쓰", "helmet": "쓰", "glasses": "쓰", "sunglasses": "쓰", "umbrella": "쓰"}
_WORN_BY |= {"tie": "매", "backpack": "메", "scarf": "두르", "stole": "두르"}
_EXTRAS = (("with ", ""), ("holding ", "들"), ("on ", "타"), ("riding ", "타"))
HANGUL = re.compile(r"[\uac00-\ud7a3]")
PARTICLES = "와과을를이가은는의"


def is_korean(lang: str | None) -> bool:
    """Whether a page's language is Korean ('ko', 'ko-KR')."""
    return re.split(r"[-_]", (lang or "").strip().lower())[0] == "ko"


def tag_name(tag: str, lang: str | None) -> str:
    """A tag as a page in ``lang`` shows it: 'red car' → '빨간 자동차' in Korean; the tag itself in English, in any
    other language, and where Korean has no word for it."""
    return (korean_words(tag) or tag) if is_korean(lang) else tag


def describe(tags: list[Tag], lang: str | None) -> str:
    """The caption of ``tags`` in ``lang``: :func:`heimdex.perception.caption.caption` in English, the same mention
    said in Korean ('야외, 파란 티셔츠를 입은 남자. 함께 보이는 것: 자동차.')."""
    return korean(select(tags)) if is_korean(lang) else caption(tags)


def scene_words(caption: str, tags: Sequence[str], lang: str | None, *, matched: bool = False) -> tuple[str, list[str]]:
    """A scene's stored English caption and tag names as a page in ``lang`` shows them (in Korean, each name once).

    In Korean the caption is read back (:func:`heimdex.perception.caption.parse`) and said again; one it cannot
    read, or whose words Korean has none for, stays as written. Words marked ``**like this**`` stay marked: the
    Korean names of the tags holding a marked word are marked, and (``matched``: the tags are the ones a query
    matched, a search result's ``tags``) the Korean names of all ``tags``."""
    if not is_korean(lang):
        return caption, list(tags)
    names = [tag_name(tag, lang) for tag in tags]
    shown_names = list(dict.fromkeys(names))  # 'with a hat' and 'person with a hat' are both '모자를 쓴 사람'
    mention = parse(caption)
    said = korean(mention) if mention is not None else ""
    if not HANGUL.search(said):  # not this grammar's, or nothing in it has a Korean word ("A man speaking.")
        return caption, shown_names
    marked = {_bare(word) for word in re.findall(r"\*\*(.+?)\*\*", caption)}
    shown = [name for tag, name in zip(tags, names) if matched or marked & {_bare(w) for w in tag.split()}]
    return _mark(said, shown), shown_names


def korean(mention: Mention) -> str:
    """A caption's mention said in Korean: the place or setting first, then the people and what they do, the
    things also seen, the light."""
    sentence = _people(mention)
    if sentence and mention.doing:
        sentence += ", " + (ACTIONS_KOREAN[mention.doing][1] if mention.doing in ACTIONS_KOREAN else mention.doing)
    if mention.place:
        sentence = f"{_word(mention.place)}, {sentence}" if sentence else _word(mention.place)
    elif mention.setting and sentence:
        sentence = f"{_word(mention.setting)}, {sentence}"
    parts = [sentence + "."] if sentence else []
    if mention.things:
        things = ", ".join(_word(name) for name, _ in mention.things)
        parts.append(("함께 보이는 것: " if parts else "") + things + ".")
    if mention.light:
        parts.append("어두운 장면." if mention.light == "dark" else "어두운 밤 장면.")
    return " ".join(parts)


def korean_words(tag: str) -> str | None:
    """A tag in Korean, or None where the vocabulary cannot say all of it."""
    text = " ".join(tag.split()).lower()
    if not text:
        return None
    if text in NAMES:
        return NAMES[text]
    if text in ACTIONS_KOREAN:
        return ACTIONS_KOREAN[text][0]
    if text in EXPRESSIONS_KOREAN:
        return EXPRESSIONS_KOREAN[text][1] + " 얼굴"
    if text.startswith("riding "):  # the action with what is ridden: '자전거 타기'
        thing = korean_words(_article_off(text.removeprefix("riding ")))
        return f"{thing} 타기" if thing else None
    pair = re.fullmatch(r"an? (.+) and an? (.+)", text)  # 'a man and a woman'
    if pair and {pair[1], pair[2]} <= set(PERSON_NOUNS):
        return f"{_with(_noun(pair[1]))} {_noun(pair[2])}"
    if text.startswith(("a ", "an ")):
        return korean_words(text.split(" ", 1)[1])
    first, _, rest = text.partition(" ")
    if rest and first in COUNTS:
        return _count(first, rest)
    person = _person(text)
    if person:
        return person
    extra = _extra(text)
    if extra:
        return f"{extra[1]} 사람"
    if rest and first in MODIFIERS:
        thing = korean_words(rest)
        return f"{MODIFIERS[first]} {thing}" if thing else None
    return None


# --- people ---------------------------------------------------------------------------------------------------------


def _people(mention: Mention) -> str:
    if not mention.phrases:
        return _word(mention.together) if mention.together else ("한 사람" if mention.anyone else "")
    each = [_word(phrase) for phrase in mention.phrases]
    if mention.together:
        return f"{_word(mention.together)}: {_joined(each)}"
    return "; 이어서 ".join(each)


def _noun(noun: str) -> str:
    """'man' → '남자', 'elderly woman' → '나이 든 여자'."""
    if noun.startswith("elderly "):
        return f"{MODIFIERS['elderly']} {NAMES[noun.removeprefix('elderly ')]}"
    return NAMES[noun]


def _person(text: str) -> str | None:
    """A person's tag: the noun alone, the noun with what they wear and more ('man in a blue t-shirt, smiling'), or
    with one thing said of them ('man smiling', 'person riding a bicycle')."""
    for noun in PERSON_NOUNS:
        if text == noun:
            return _noun(noun)
        rest = text.removeprefix(noun)
        if rest == text or not rest.startswith((" ", ",")):
            continue
        if rest.startswith((" in ", ", ")):
            return _described(noun, rest)
        extra = _extra(rest.strip())
        return f"{extra[1]} {_noun(noun)}" if extra else None
    return None


def _described(noun: str, rest: str) -> str | None:
    """' in a grey cardigan and black trousers, smiling, with a backpack' after a noun, chained before it."""
    head, *extras = rest.split(", ")
    clauses = []
    if head.startswith(" in "):
        worn = [_article_off(w) for w in head.removeprefix(" in ").split(" and ")]
        if len(worn) == 1 and worn[0] in COLOURS:  # 'man in black'
            clauses.append(_verb(f"{COLOUR_NAMES[worn[0]]} 옷", "입"))
        else:
            names = [korean_words(w) for w in worn]
            if not all(names):
                return None
            clauses.append(_verb(_joined([n for n in names if n]), "입"))
    elif head:
        return None
    for words in extras:
        clause = _extra(words)
        if clause is None:
            return None
        clauses.append(clause)
    return _chain(clauses, _noun(noun))


def _extra(words: str) -> tuple[str, str] | None:
    """One thing said of a person ('smiling', 'with a backpack', 'holding a cup', 'on a bicycle') as its two forms."""
    if words in EXPRESSIONS_KOREAN:
        return EXPRESSIONS_KOREAN[words]
    for lead, stem in _EXTRAS:
        if words.startswith(lead):
            thing = _article_off(words.removeprefix(lead))
            name = korean_words(thing)
            if not name:
                return None
            return _verb(name, stem or _WORN_BY.get(thing.split()[-1], "들"))
    return None


def _verb(thing: str, stem: str) -> tuple[str, str]:
    going, done = _VERBS[stem]
    return f"{_object(thing)} {going}", f"{_object(thing)} {done}"


def _chain(clauses: list[tuple[str, str]], noun: str) -> str:
    """'파란 티셔츠를 입고 배낭을 멘 남자': every clause but the last joined by 고, the last before the noun."""
    if not clauses:
        return noun
    return " ".join([going for going, _ in clauses[:-1]] + [clauses[-1][1], noun])


# --- counts ---------------------------------------------------------------------------------------------------------


def _count(count: str, many: str) -> str | None:
    """'three chairs' → '의자 세 개', 'two men' → '남자 두 명', 'two people' → '두 사람', 'many cars' → '많은 자동차'."""
    one = next(
        (
            word
            for word in (_SINGULAR.get(many), many.removesuffix("es"), many.removesuffix("s"), many)
            if word and korean_words(word)
        ),
        None,
    )
    if one is None:
        return None
    name, number = korean_words(one) or one, COUNTS[count]
    if one == "person" or count in ("several", "many"):
        return f"{number} {name}"
    counter = "명" if one in PERSON_NOUNS else "대" if one in _VEHICLES else "마리" if one in _ANIMALS else "개"
    return f"{name} {number} {counter}"


# --- small words ----------------------------------------------------------------------------------------------------


def _word(tag: str) -> str:
    return korean_words(tag) or tag


def _article_off(phrase: str) -> str:
    return phrase.split(" ", 1)[1] if phrase.startswith(("a ", "an ")) and " " in phrase else phrase


def _ends_in_consonant(word: str) -> bool:
    """Whether a word's last sound closes on a consonant (받침), which picks 을/과 over 를/와."""
    last = word.rstrip()[-1:]
    if HANGUL.match(last):
        return (ord(last) - 0xAC00) % 28 != 0
    if last.isdigit():
        return last in "013678"  # 영 일 삼 육 칠 팔
    return last.isalpha() and last.lower() not in "aeiouwyr"  # an English word, as Korean would say it


def _object(word: str) -> str:
    return word + ("을" if _ends_in_consonant(word) else "를")


def _with(word: str) -> str:
    return word + ("과" if _ends_in_consonant(word) else "와")


def _joined(words: list[str]) -> str:
    """'A와 B', 'A, B와 C'."""
    if len(words) < 2:
        return "".join(words)
    return ", ".join(words[:-2] + [_with(words[-2])]) + " " + words[-1]


def _bare(word: str) -> str:
    return re.sub(r"[^\w'-]", "", word.casefold())


def _mark(text: str, names: list[str]) -> str:
    """``text`` with each of ``names`` marked ``**like this**`` where it stands as words (a particle may follow),
    longest first, none inside another."""
    spans: list[tuple[int, int]] = []
    for name in sorted({n for n in names if n}, key=len, reverse=True):
        for found in re.finditer(re.escape(name), text):
            start, end = found.span()
            before, after = text[start - 1 : start], text[end : end + 2]
            if before and (before.isalnum() or HANGUL.match(before)):
                continue
            if after[:1] and HANGUL.match(after[:1]) and not (after[0] in PARTICLES and not HANGUL.match(after[1:2])):
                continue
            if after[:1].isalnum() and not HANGUL.match(after[:1]):
                continue
            if all(end <= a or start >= b for a, b in spans):
                spans.append((start, end))
    for start, end in sorted(spans, reverse=True):
        text = f"{text[:start]}**{text[start:end]}**{text[end:]}"
    return text

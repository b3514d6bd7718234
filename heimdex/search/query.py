"""Query understanding: language, quoted phrases, enrolled people, and the text left for meaning.

"민지가 웃는 장면" names the person 민지 (Korean particles are peeled off names),
'"ask not" speech' carries the exact phrase ``ask not``, and what remains is what
the semantic channels embed. Nothing here touches the database: the caller
passes the user's person names.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass, field
from functools import cache

from rapidfuzz import process
from rapidfuzz.distance import OSA
from spellchecker import SpellChecker

from heimdex.models.types import COCO_LABELS
from heimdex.perception.objects import SAME_AS
from heimdex.perception.people import EXPRESSION_WORDS
from heimdex.perception.words import (
    ACTION_WORDS,
    COLOUR_SYNONYMS,
    COLOURS,
    ENGLISH_KOREAN,
    HELD,
    KOREAN,
    LOWER_WORDS,
    NUMBERS,
    PLACES,
    RIDDEN,
    UPPER_WORDS,
    article,
)

POSTURES = frozenset({"sitting", "standing", "walking", "running"})  # too common and too often untold to require
# what the taggers can say they saw: a query naming one of these is answered by the picture only where a tagger said
# it (a neighbour in meaning, "smiling" for "crying", a car for "bicycle", is not the thing asked for)
SIGHT_WORDS = frozenset(
    {SAME_AS.get(label, label) for label in COCO_LABELS if label and label != "person"}
    | HELD
    | RIDDEN
    | (set(ACTION_WORDS.values()) - POSTURES)
    | {word for words in EXPRESSION_WORDS.values() for word in words}
)
PEOPLE_WORDS = frozenset({"person", "people", "man", "men", "woman", "women", "child", "children", "boy", "girl"})
# words a Korean query wraps around what it asks for ("웃는 장면", "a scene of smiling"): no names, nothing to find
KOREAN_FILLERS = frozenset({"장면", "영상", "동영상", "모습", "순간", "부분", "때"})
MAX_QUERY_CHARS = 500  # longer queries are cut here (the rest adds nothing a person would type)
HANGUL = re.compile(r"[\uac00-\ud7a3]")
LATIN = re.compile(r"[A-Za-z]")
QUOTED = re.compile(r"[\"“”„«»]([^\"“”„«»]+)[\"“”„«»]")
WORD = re.compile(r"[\w'-]+")
# Korean particles that can follow a name, longest first ("민지랑", "민지한테", "민지가")
PARTICLES = (
    "에게서",
    "한테서",
    "이랑",
    "한테",
    "에게",
    "께서",
    "처럼",
    "까지",
    "부터",
    "이가",
    "은",
    "는",
    "이",
    "가",
    "을",
    "를",
    "와",
    "과",
    "랑",
    "의",
    "도",
    "만",
    "에",
    "로",
    "야",
    "아",
)


@dataclass(frozen=True)
class ParsedQuery:
    raw: str
    language: str  # "ko", "en" (anything else reads as "en": the models are multilingual)
    phrases: tuple[str, ...] = ()  # quoted, matched exactly (case-insensitive)
    people: tuple[str, ...] = ()  # enrolled names found in the query
    text: str = ""  # what the semantic and lexical channels search for
    terms: tuple[str, ...] = field(default=())  # the words of ``text``, for marking matches
    # what the query says of appearance and place, each unit as alternative phrases with their weight:
    # (("red shirt", 1.0), ("red top", 0.7)) for "a man in a red shirt"; matched against the tags
    appearance: tuple[tuple[tuple[str, float], ...], ...] = ()
    actions: tuple[str, ...] = ()  # what the query says someone does ("waving"): the named people must be the ones
    sight: tuple[str, ...] = ()  # the things a tagger can name that the query asks to see (SIGHT_WORDS)
    translated: tuple[str, ...] = ()  # its words in the other language (bilingual vocabulary), for screen text

    @property
    def empty(self) -> bool:
        return not (self.text or self.phrases or self.people)


def detect_language(text: str) -> str:
    """'ko' when Hangul outnumbers Latin letters, else 'en'."""
    return "ko" if len(HANGUL.findall(text)) > len(LATIN.findall(text)) else "en"


def strip_particle(word: str) -> str:
    """A Korean word without a trailing particle (민지가 → 민지); other words unchanged."""
    if HANGUL.search(word):
        for particle in PARTICLES:
            if word.endswith(particle) and len(word) > len(particle):
                return word[: -len(particle)]
    return word


def parse_query(raw: str, person_names: list[str] | tuple[str, ...] = ()) -> ParsedQuery:
    """Split a query into phrases, people and the rest."""
    query = " ".join(raw.split())[:MAX_QUERY_CHARS]
    phrases = tuple(p.strip() for p in QUOTED.findall(query) if p.strip())
    rest = QUOTED.sub(" ", query)
    names = {name.casefold(): name for name in person_names if name.strip()}
    people: list[str] = []
    kept: list[str] = []
    for word in rest.split():
        typed = word.strip(",.!?;:").casefold()  # a name as typed first: 지은 is not 지 with a particle
        bare = typed if typed in names else strip_particle(typed)
        if bare in names:
            people.append(names[bare])
        else:
            kept.append(word)
    for name in names:  # names of more than one word ("Kim Minji"), as whole words
        whole = re.compile(rf"(?<!\w){re.escape(name)}(?!\w)", re.IGNORECASE)
        if " " in name and whole.search(" ".join(kept)):
            people.append(names[name])
            kept = whole.sub(" ", " ".join(kept)).split()
    text = " ".join(kept + list(phrases)).strip()
    if not any(ch.isalnum() for ch in text):  # punctuation alone, of any script, says nothing to look for
        text = ""
    terms = tuple(dict.fromkeys(w.casefold() for w in WORD.findall(text)))
    return ParsedQuery(
        query,
        detect_language(query),
        phrases,
        tuple(dict.fromkeys(people)),
        text,
        terms,
        appearance_units(text),
        actions_in(text),
        sight_words(text),
        translations(text),
    )


def corrected_text(raw: str, fixes: dict[str, str]) -> str:
    """``raw`` with each word of ``fixes`` replaced by its correction, outside quoted phrases only."""
    out: list[str] = []
    at = 0
    for quoted in [*QUOTED.finditer(raw), None]:
        end = quoted.start() if quoted else len(raw)
        out.append(WORD.sub(lambda m: fixes.get(m.group(0), m.group(0)), raw[at:end]))
        if quoted:
            out.append(quoted.group(0))
            at = quoted.end()
    return "".join(out)


def translations(text: str) -> tuple[str, ...]:
    """The query's words in the other language, as far as the bilingual vocabulary knows them
    ("emergency exit" → "비상구", "물병" → "bottle")."""
    lowered = text.casefold()
    if HANGUL.search(lowered):
        found = [KOREAN.get(w) or KOREAN.get(strip_particle(w)) for w in WORD.findall(lowered)]
    else:
        found = [
            korean
            for english, korean in ENGLISH_KOREAN.items()
            if re.search(rf"\b{re.escape(english)}(?:e?s)?\b", lowered)  # "bottles" as "bottle"
        ]
    return tuple(dict.fromkeys(w for w in found if w))


def sight_words(text: str) -> tuple[str, ...]:
    """The things of ``SIGHT_WORDS`` a query names, singular and in English ("물병" → "bottle", "cars" → "car")."""
    words = [_english(w) for w in WORD.findall(text.casefold())]
    found = [_singular(" ".join(words[i : i + 2])) for i in range(len(words) - 1)]
    found += [_singular(w) for w in words] + list(actions_in(text))
    return tuple(dict.fromkeys(SAME_AS.get(w, w) for w in found if SAME_AS.get(w, w) in SIGHT_WORDS))


def _singular(word: str) -> str:
    for cut in ("es", "s"):
        if word.endswith(cut) and word[: -len(cut)] in SIGHT_WORDS:
            return word[: -len(cut)]
    return word


def spelling(word: str) -> str | None:
    """The English word a misspelt query word stands for ("bycicle" → "bicycle"); None for a word English knows,
    a word not of plain Latin letters (names, German, Korean), or a word with no English one close enough.

    Close enough: the same first letter, one edit for a word of up to six letters, two from seven (a swap is one
    edit); among the closest, the most frequent. The caller asks only about words the user's library does not hold ("Natalya" on screen)."""
    bare = word.casefold()
    if not 4 <= len(bare) <= MAX_SPELLED or not (bare.isascii() and bare.isalpha()):
        return None
    english = _dictionary()
    if bare in english.frequency:
        return None
    limit = 2 if len(bare) >= 7 else 1
    near = process.extract(bare, english.near(bare, limit), scorer=OSA.distance, score_cutoff=limit, limit=20)
    if not near:
        return None
    closest = min(distance for _, distance, _ in near)
    return max((w for w, distance, _ in near if distance == closest), key=lambda w: english.frequency[w])


MAX_SPELLED = 20  # longer words are not corrected


class _English:
    """English words and how often each is used (pyspellchecker's list), by first letter and length."""

    def __init__(self) -> None:
        self.frequency: dict[str, int] = dict(SpellChecker(language="en").word_frequency.dictionary)
        self._groups: dict[tuple[str, int], list[str]] = {}
        for w in self.frequency:
            self._groups.setdefault((w[:1], len(w)), []).append(w)

    def near(self, word: str, spread: int) -> list[str]:
        """The words that begin with ``word``'s letter and are at most ``spread`` letters longer or shorter
        (a misspelling keeps its first letter far more often than not)."""
        n = len(word)
        return [w for length in range(n - spread, n + spread + 1) for w in self._groups.get((word[:1], length), [])]


@cache
def _dictionary() -> _English:
    return _English()


def looks_like_name(word: str) -> bool:
    """Whether a query word that nothing in the library holds reads as a name: two or three Hangul syllables
    that are no word the app knows (with or without a particle), or a capitalised Latin word."""
    typed = word.strip(string.punctuation)
    bare = strip_particle(typed)
    if typed in KOREAN_FILLERS or bare in KOREAN_FILLERS:
        return False
    if HANGUL.search(bare):
        known = KOREAN.get(typed) or KOREAN.get(bare) or actions_in(typed) or actions_in(bare)
        return 2 <= len(bare) <= 3 and not known  # Korean names are two or three syllables, nearly all
    return bare[:1].isupper() and bare[1:].islower() and bare.isalpha()


def actions_in(text: str) -> tuple[str, ...]:
    """The actions a query names, as the action tags say them ("Minji waves" → "waving")."""
    found = (ACTION_WORDS.get(w) or ACTION_WORDS.get(strip_particle(w)) for w in WORD.findall(text.casefold()))
    return tuple(dict.fromkeys(a for a in found if a))


NOUN_FORMS = {
    **{"men": "man", "women": "woman", "guy": "man", "lady": "woman", "kid": "child", "kids": "child"},
    **{"children": "child", "elderly": "elderly", "old": "elderly", "boy": "boy", "girl": "girl"},
    **{"man": "man", "woman": "woman", "child": "child"},
}
ACCESSORIES = {
    *("glasses", "sunglasses", "hat", "hard hat", "helmet", "tie", "backpack", "handbag", "umbrella", "scarf", "apron"),
}
COMPOUNDS = {("hard", "hat"): "hard hat", ("hard", "hats"): "hard hat", ("safety", "helmet"): "hard hat"}
FILLERS = {"a", "an", "the", "in", "wearing", "with", "and", "dressed", "입은", "쓴", "있는", "의"}
GARMENT_FAMILY = {**dict.fromkeys(UPPER_WORDS, "top"), **dict.fromkeys(LOWER_WORDS, "trousers")}


def appearance_units(text: str) -> tuple[tuple[tuple[str, float], ...], ...]:
    """The appearance and place words of a query, in English tag words (Korean ones translated).

    Who ('man', 'elderly man'), what they wear ('red shirt': best as the same person's phrase
    'man in a red shirt', less as a red shirt anyone wears, least as any red top), what they
    carry ('glasses'), how many ('two people'), and places ('parking lot').
    """
    words = [w for w in (_english(w) for w in WORD.findall(text.casefold())) if w]
    for i in range(len(words) - 1, 0, -1):  # "hard hat" is one thing
        if (words[i - 1], words[i]) in COMPOUNDS:
            words[i - 1 : i + 1] = [COMPOUNDS[words[i - 1], words[i]]]
    units: list[tuple[tuple[str, float], ...]] = []
    joined = " ".join(words)
    for place in PLACES:
        if re.search(rf"\b{place}\b", joined):
            units.append(((place, 1.0),))
    content = [w for w in words if w not in FILLERS]
    who = next((NOUN_FORMS[w] for w in content if w in NOUN_FORMS and NOUN_FORMS[w] != "elderly"), "person")
    for i, word in enumerate(content):
        after = content[i + 1] if i + 1 < len(content) else None
        if word in COLOURS:
            units.append(_coloured(who, word, after))
        elif word in NOUN_FORMS:
            noun = NOUN_FORMS[word]
            if noun == "elderly" and after in NOUN_FORMS:
                continue
            previous = content[i - 1] if i else None
            aged = previous in ("elderly", "old") and noun in ("man", "woman")  # "old woman" is an elderly one
            noun = f"elderly {noun}" if aged else noun
            units.append(((noun if noun != "elderly" else "elderly person", 1.0),))
        elif word in ACCESSORIES and (i == 0 or content[i - 1] not in COLOURS):
            units.append(((word, 1.0),))
        elif word in GARMENT_FAMILY and (i == 0 or content[i - 1] not in COLOURS) and word not in ("clothes", "outfit"):
            family = GARMENT_FAMILY[word]  # "a man in jeans": the garment whatever its colour
            units.append(((word, 1.0),) + (((family, 0.5),) if family != word else ()))
        elif word in NUMBERS[2:] and after in ("people", "person", "men", "women", "man", "woman"):
            units.append(((f"{word} {after if after != 'person' else 'people'}", 1.0),))
        elif word == "crowd":
            units.append((("crowd", 1.0),))
    units += [((action, 1.0),) for action in actions_in(text)]
    return tuple(dict.fromkeys(units))


def _coloured(who: str, colour: str, after: str | None) -> tuple[tuple[str, float], ...]:
    """A colour and what follows it, as alternative tag phrases with their weights."""
    gendered = who != "person"
    if after in ("clothes", "outfit") or after is None or after in NOUN_FORMS:  # "a man in black"
        options = [(f"{who} in {colour}", 1.0), (f"person in {colour}", 0.6), (f"{colour} top", 0.5)]
    elif after not in GARMENT_FAMILY:  # "red car"
        options = [(f"{colour} {after}", 1.0)]
    else:
        garment, family = f"{colour} {after}", f"{colour} {GARMENT_FAMILY[after]}"
        options = [(f"{who} in {article(garment)}", 1.0), (garment, 0.75 if gendered else 1.0)]
        if gendered:
            options += [(f"person in {article(garment)}", 0.6), (f"{who} in {article(family)}", 0.8)]
        options += [(f"person in {article(family)}", 0.5), (family, 0.4)]
    best: dict[str, float] = {}
    for phrase, weight in options:  # a phrase once, at its best weight ("person in red" for anyone)
        best[phrase] = max(weight, best.get(phrase, 0.0))
    return tuple(best.items())


def _english(word: str) -> str:
    """A query word as the tags would say it: Korean translated (particles peeled), colour synonyms folded."""
    if HANGUL.search(word):
        word = KOREAN.get(word) or KOREAN.get(strip_particle(word)) or ""
    return COLOUR_SYNONYMS.get(word, word)

"""Query understanding: language, quoted phrases, enrolled people, and the text left for meaning.

"민지가 웃는 장면" names the person 민지 (Korean particles are peeled off names),
'"ask not" speech' carries the exact phrase ``ask not``, and what remains is what
the semantic channels embed. Nothing here touches the database: the caller
passes the user's person names.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

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
        bare = strip_particle(word.strip(",.!?;:")).casefold()
        if bare in names:
            people.append(names[bare])
        else:
            kept.append(word)
    for name in names:  # names of more than one word ("Kim Minji")
        if " " in name and name in " ".join(kept).casefold():
            people.append(names[name])
            kept = " ".join(kept).casefold().replace(name, " ").split()
    text = " ".join(kept + list(phrases)).strip()
    terms = tuple(dict.fromkeys(w.casefold() for w in WORD.findall(text)))
    return ParsedQuery(query, detect_language(query), phrases, tuple(dict.fromkeys(people)), text, terms)

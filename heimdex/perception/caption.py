"""One or two plain sentences for a scene, composed from its tags.

"A man in a blue t-shirt, smiling, and a woman in a black top, in a meeting room.
Also seen: a blue chair, a white table. It is dark." The sentence is embedded beside
the tag list, so a query written as a sentence meets a sentence; it says only what the
tags say.

What a caption mentions is chosen once (:func:`select`: a :class:`Mention`) and then said
in a language: :func:`english` here, :func:`heimdex.perception.korean.korean` for Korean
pages. :func:`parse` reads a caption this module wrote back into its mention, so a
caption stored in English can be said again in another language.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from heimdex.models.types import Tag
from heimdex.perception.actions import ACTIONS
from heimdex.perception.places import RULES
from heimdex.perception.words import NUMBERS, PERSON_NOUNS, PLACES, article

MAX_PEOPLE = 3
MAX_THINGS = 4
NOT_THINGS = {"person", "footwear"}
SETTINGS = ("indoors", "outdoors")
LIGHTS = ("dark", "at night")  # what the caption says of the light ("bright" is not said)


@dataclass(frozen=True)
class Mention:
    """What a scene's caption says, in tag words, before it is said in a language. Each field holds only what is
    said: ``together`` when it is said of the people, ``doing`` and ``setting`` only beside people."""

    phrases: tuple[str, ...] = ()  # the people described ('man in a blue t-shirt, smiling'), at most MAX_PEOPLE
    together: str | None = None  # the count of people seen together ('two people'), said before their phrases
    anyone: bool = False  # 'a person': someone was detected, nobody described or counted
    doing: str | None = None  # the first action from the pose ('waving')
    place: str | None = None  # 'meeting room'
    setting: str | None = None  # 'indoors' or 'outdoors', said when no place is
    things: tuple[tuple[str, bool], ...] = ()  # (name, counted): ('red car', False), ('three chairs', True)
    light: str | None = None  # 'dark', or 'at night' (dark, at night)


def caption(tags: list[Tag]) -> str:
    """The scene in words ('' when its tags say nothing a sentence can hold)."""
    return english(select(tags))


def select(tags: list[Tag]) -> Mention:
    """What a caption of ``tags`` (strongest first) mentions, and in which order."""
    phrases = tuple(t.tag for t in tags if t.source == "person" and " in " in t.tag)[:MAX_PEOPLE]
    together = next((t.tag for t in tags if t.source == "count" and t.tag.split()[-1] == "people"), None)
    if len(phrases) == 1:
        together = None  # one person described: the count is not said
    anyone = not phrases and not together and any(t.tag == "person" for t in tags)
    people = bool(phrases or together or anyone)
    place = next((t.tag for t in tags if t.source.startswith("place:") and t.tag not in SETTINGS), None)
    setting = next((t.tag for t in tags if t.tag in SETTINGS), None)
    doing = next((t.tag for t in tags if t.source.startswith("pose") and t.tag in ACTIONS), None)
    light = [t.tag for t in tags if t.source == "lighting" and t.tag in LIGHTS]
    return Mention(
        phrases=phrases,
        together=together,
        anyone=anyone,
        doing=doing if people else None,
        place=place,
        setting=setting if people and not place else None,
        things=_things(tags),
        light=None if not light else "dark" if light == ["dark"] else "at night",
    )


def english(mention: Mention) -> str:
    """The mention said in English: 'Two people: a man in ... and a woman in ... in a meeting room. Also seen: a red
    car, three chairs. It is dark.'"""
    sentence = _people(mention)
    if sentence and mention.doing:
        sentence += f", {mention.doing}"
    if mention.place:
        sentence = f"{sentence} in {article(mention.place)}" if sentence else article(mention.place).capitalize()
    elif mention.setting and sentence:
        sentence += f", {mention.setting}"
    parts = [sentence[0].upper() + sentence[1:] + "."] if sentence else []
    things = [name if counted else article(name) for name, counted in mention.things]
    if things:
        parts.append(("Also seen: " if parts else "") + ", ".join(things) + ".")
        parts[-1] = parts[-1][0].upper() + parts[-1][1:]
    if mention.light:
        parts.append("It is dark." if mention.light == "dark" else "It is dark, at night.")
    return " ".join(parts)


def _people(mention: Mention) -> str:
    """'two people: a woman in a grey top and a man in black' when they were seen together; people seen
    apart (on different keyframes) are listed one after the other."""
    if not mention.phrases:
        return mention.together or ("a person" if mention.anyone else "")
    each = [("an " if p[0] in "aeiou" else "a ") + p for p in mention.phrases]
    if mention.together:
        return f"{mention.together}: {' and '.join(each)}"
    return "; then ".join(each)


def _things(tags: list[Tag]) -> tuple[tuple[str, bool], ...]:
    """The strongest objects, each once, by their coloured names where known ('a red car') or their count."""
    coloured = {t.tag.split(" ", 1)[1]: t.tag for t in tags if t.source == "colour" and " " in t.tag}
    counted = {t.tag.split(" ", 1)[1]: t.tag for t in tags if t.source == "count" and " " in t.tag}  # not "crowd"
    things: list[tuple[str, bool]] = []
    said: set[str] = set()
    for tag in tags:
        if tag.source in ("objects", "concepts", "clip") and tag.tag not in NOT_THINGS:
            plural_form = next((c for noun, c in counted.items() if noun.startswith(tag.tag)), None)
            thing = (plural_form, True) if plural_form else (coloured.get(tag.tag, tag.tag), False)
            words = thing[0] if thing[1] else article(thing[0])
            if words not in said:
                said.add(words)
                things.append(thing)
    return tuple(things[:MAX_THINGS])


# --- reading a caption back -----------------------------------------------------------------------------------------

_LIGHT_SAID = {"It is dark, at night.": "at night", "It is dark.": "dark"}
_TOGETHER = re.compile(rf"((?:{'|'.join(NUMBERS[2:])}|several) people)(?:: (.+))?")
_NEXT_PERSON = re.compile(rf" and (?=an? (?:{'|'.join(PERSON_NOUNS)}) in )")
_COUNT_WORDS = (*NUMBERS[2:], "many", "several")
_PLACE_NAMES = sorted({*RULES, *PLACES}, key=len, reverse=True)


def parse(text: str) -> Mention | None:
    """The mention a caption of :func:`english` says (``**marks**`` of matched words ignored); None for a text it
    did not write, or one it could have written from a different mention."""
    text = " ".join(text.replace("**", "").split())
    rest, light = text, None
    for said, value in _LIGHT_SAID.items():
        if rest == said or rest.endswith(" " + said):
            rest, light = rest[: -len(said)].rstrip(), value
            break
    if not rest:
        readings: list[Mention | None] = [Mention(light=light)]
    elif ". Also seen: " in rest:
        sentence, things = rest.split(". Also seen: ", 1)
        readings = [_sentence(sentence, light, things)]
    else:  # a sentence alone, or things alone ("A car.")
        readings = [_sentence(rest.removesuffix("."), light, ""), _mention(things=rest, light=light)]
    return next((m for m in readings if m is not None and english(m) == text), None)


def _sentence(text: str, light: str | None, things: str) -> Mention | None:
    """The people, action and place of a caption's first sentence (no full stop), with its things and light."""
    text = text[:1].lower() + text[1:]
    place = setting = None
    for name in _PLACE_NAMES:
        if text == article(name):
            return _mention(place=name, things=things, light=light)
        if text.endswith(f" in {article(name)}"):
            place, text = name, text[: -len(f" in {article(name)}")]
            break
    else:
        setting = next((s for s in SETTINGS if text.endswith(f", {s}")), None)
        text = text.removesuffix(f", {setting}") if setting else text
    doing = next((a for a in ACTIONS if text.endswith(f", {a}")), None)
    text = text.removesuffix(f", {doing}") if doing else text
    together, phrases, anyone = None, (), text == "a person"
    counted = _TOGETHER.fullmatch(text)
    if counted:
        together = counted.group(1)
        phrases = tuple(_NEXT_PERSON.split(counted.group(2))) if counted.group(2) else ()
    elif not anyone:
        phrases = tuple(text.split("; then "))
    if not all(p.startswith(("a ", "an ")) and " in " in p for p in phrases):
        return None  # described people are said with what they wear
    phrases = tuple(p.split(" ", 1)[1] for p in phrases)
    return _mention(phrases, together, anyone, doing, place, setting, things, light)


def _mention(
    phrases: tuple[str, ...] = (),
    together: str | None = None,
    anyone: bool = False,
    doing: str | None = None,
    place: str | None = None,
    setting: str | None = None,
    things: str = "",
    light: str | None = None,
) -> Mention:
    """A mention from the pieces of a caption; ``things`` as said ('A red car, three chairs.')."""
    listed: list[tuple[str, bool]] = []
    for said in filter(None, things.removesuffix(".").split(", ")):
        said = said[:1].lower() + said[1:] if not listed else said
        if said.split(" ", 1)[0] in _COUNT_WORDS:
            listed.append((said, True))
        else:
            listed.append((said.split(" ", 1)[1] if said.startswith(("a ", "an ")) else said, False))
    return Mention(phrases, together, anyone, doing, place, setting, tuple(listed), light)

"""One or two plain sentences for a scene, composed from its tags.

"A man in a blue t-shirt, smiling, and a woman in a black top, in a meeting room.
Also seen: a blue chair, a white table. It is dark." The sentence is embedded beside
the tag list, so a query written as a sentence meets a sentence; it says only what the
tags say.
"""

from __future__ import annotations

from heimdex.models.types import Tag
from heimdex.perception.actions import ACTIONS
from heimdex.perception.words import article

MAX_PEOPLE = 3
MAX_THINGS = 4
NOT_THINGS = {"person", "footwear"}


def caption(tags: list[Tag]) -> str:
    """The scene in words ('' when its tags say nothing a sentence can hold)."""
    people = _people(tags)
    place = next((t.tag for t in tags if t.source.startswith("place:") and t.tag not in ("indoors", "outdoors")), None)
    setting = next((t.tag for t in tags if t.tag in ("indoors", "outdoors")), None)
    doing = [t.tag for t in tags if t.source.startswith("pose") and t.tag in ACTIONS]
    sentence = people
    if sentence and doing:
        sentence += f", {doing[0]}"
    if place:
        sentence = f"{sentence} in {article(place)}" if sentence else f"{article(place).capitalize()}"
    elif setting and sentence:
        sentence += f", {setting}"
    things = _things(tags)
    parts = [sentence[0].upper() + sentence[1:] + "."] if sentence else []
    if things:
        parts.append(("Also seen: " if parts else "") + ", ".join(things) + ".")
        parts[-1] = parts[-1][0].upper() + parts[-1][1:]
    light = [t.tag for t in tags if t.source == "lighting" and t.tag in ("dark", "at night")]
    if light:
        parts.append("It is dark." if light == ["dark"] else "It is dark, at night.")
    return " ".join(parts)


def _people(tags: list[Tag]) -> str:
    """'two people: a woman in a grey top and a man in black' when they were seen together; people seen
    apart (on different keyframes) are listed one after the other."""
    phrases = [t.tag for t in tags if t.source == "person" and " in " in t.tag][:MAX_PEOPLE]
    together = next((t.tag for t in tags if t.source == "count" and t.tag.split()[-1] == "people"), None)
    if not phrases:
        return together or ("a person" if any(t.tag == "person" for t in tags) else "")
    each = [("an " if p[0] in "aeiou" else "a ") + p for p in phrases]
    if together and len(phrases) > 1:
        return f"{together}: {' and '.join(each)}"
    return "; then ".join(each)


def _things(tags: list[Tag]) -> list[str]:
    """The strongest objects, each once, by their coloured names where known ('a red car')."""
    coloured = {t.tag.split(" ", 1)[1]: t.tag for t in tags if t.source == "colour" and " " in t.tag}
    counted = {t.tag.split(" ", 1)[1]: t.tag for t in tags if t.source == "count" and " " in t.tag}  # not "crowd"
    names = []
    for tag in tags:
        if tag.source in ("objects", "concepts", "clip") and tag.tag not in NOT_THINGS:
            name = coloured.get(tag.tag, tag.tag)
            plural_form = next((c for noun, c in counted.items() if noun.startswith(tag.tag)), None)
            name = plural_form or article(name)
            if name not in names:
                names.append(name)
    return names[:MAX_THINGS]

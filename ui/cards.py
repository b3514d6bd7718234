"""Moments as cards: picture, title, times, what matched (marked), why (channel chips) and who."""

from __future__ import annotations

import html
import re

from ui.text import say, scene_words

CHANNEL_NAMES = {"transcript": "speech", "ocr": "screen_text", "visual": "picture", "person": "person"}  # text keys
# A card says which moment it is (its video and start), never only where it sits in a list that may have changed.
CLICKS_JS = """
const open = (card) => trigger('click', {video: card.dataset.video, start: Number(card.dataset.start)});
element.addEventListener('click', (event) => {
  const card = event.target.closest('[data-video]');
  if (card) open(card);
});
element.addEventListener('keydown', (event) => {
  const card = event.target.closest('[data-video]');
  if (card && (event.key === 'Enter' || event.key === ' ')) {
    event.preventDefault();
    open(card);
  }
});
"""


def clock(seconds: float) -> str:
    """'1:05' (or '1:02:05'): a time as people read it on a player."""
    whole = int(max(0.0, seconds))
    hours, rest = divmod(whole, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


def marked(snippet: str) -> str:
    """A snippet whose matched words come as ``**word**``, escaped, the matches in ``<mark>``."""
    return re.sub(r"\*\*(.+?)\*\*", r"<mark>\1</mark>", html.escape(snippet))


def what_matched(moment: dict, lang: str | None) -> tuple[str, str]:
    """Where the moment matched and the words to show: speech, screen text, the scene's sentence, or its tags."""
    channels = moment["channels"]
    if moment.get("transcript_snippet") and "transcript" in channels:
        return say(lang, "said"), marked(moment["transcript_snippet"])
    if moment.get("ocr_snippet") and "ocr" in channels:
        return say(lang, "on_screen"), marked(moment["ocr_snippet"])
    if moment.get("caption") or moment.get("tags"):
        caption, tags = scene_words(moment.get("caption") or "", moment.get("tags") or [], lang, matched=True)
        return say(lang, "seen"), marked(caption) if caption else html.escape(", ".join(tags))
    said = moment.get("transcript_snippet") or moment.get("ocr_snippet") or ""
    return (say(lang, "said"), marked(said)) if said else ("", "")


def card(moment: dict, picture: str | None, lang: str | None) -> str:
    where, words = what_matched(moment, lang)
    tier = moment.get("tier", "possible")
    match = f"<span class='tier {tier}'>{say(lang, 'tier_' + tier)} · {round(100 * moment['score'])}%</span>"
    chips = "".join(
        f"<span class='chip'>{channel_name(channel, lang)} {round(100 * strength)}%</span>"
        for channel, strength in sorted(moment["channels"].items(), key=lambda item: -item[1])
    )
    people = ", ".join(html.escape(name) for name in moment.get("people") or [])
    title = html.escape(moment["title"])
    alt = f"{title} · {clock(moment['start_s'])}"
    image = (
        f"<img src='{html.escape(picture)}' alt='{alt}' loading='lazy'>"
        if picture
        else "<div class='no-picture'></div>"
    )
    return (
        f"<article class='moment' data-video='{html.escape(moment['video_id'])}' data-start='{moment['start_s']:.3f}'"
        " tabindex='0' role='button'>"  # named by what it shows
        f"<div class='thumb'>{image}<span class='when'>{clock(moment['start_s'])}–{clock(moment['end_s'])}</span></div>"
        f"<div class='body'><h4>{title}</h4>"
        + (f"<p class='said'><b>{where}:</b> {words}</p>" if words else "")
        + f"<div class='chips'>{match}{chips}</div>"
        + (f"<p class='with'>{say(lang, 'with_people', people=people)}</p>" if people else "")
        + "</div></article>"
    )


def cards(moments: list[dict], pictures: list[str | None], lang: str | None) -> str:
    """The result list: one card per moment, in order."""
    shown = "".join(card(m, p, lang) for m, p in zip(moments, pictures))
    return f"<div class='moments'>{shown}</div>"


def channel_name(channel: str, lang: str | None) -> str:
    return say(lang, CHANNEL_NAMES[channel]) if channel in CHANNEL_NAMES else html.escape(channel)


def searched_for(corrected: str | None, query: str, lang: str | None) -> str:
    """'Showing results for bicycle (you typed bycicle)' when a misspelt word was corrected, else nothing."""
    if not corrected:
        return ""
    return f"<p class='corrected'>{html.escape(say(lang, 'searched_for', corrected=corrected, query=query))}</p>"


def no_one_called(names: tuple[str, ...], lang: str | None) -> str:
    """'No one called “소라” is in your library…' above results found for the rest of the query, else nothing."""
    return "".join(f"<p class='corrected'>{html.escape(say(lang, 'no_one_called', name=name))}</p>" for name in names)


def nothing_found(
    query: str, channels: tuple[str, ...], korean: bool, lang: str | None, unknown_names: tuple[str, ...] = ()
) -> str:
    """What to say when no moment matches, with what to try instead."""
    tips = [html.escape(say(lang, "no_one_called", name=name)) for name in unknown_names]
    tips.append(html.escape(say(lang, "tip_words")))
    if channels:
        named = ", ".join(channel_name(c, lang) for c in channels)
        tips.append(html.escape(say(lang, "tip_channels", channels=named)))
    tips.append(html.escape(say(lang, "tip_english" if korean else "tip_korean")))
    return (
        f"<div class='empty'><p><b>{html.escape(say(lang, 'nothing_matches', query=query))}</b></p>"
        f"<p>{say(lang, 'try')}</p><ul>" + "".join(f"<li>{tip}</li>" for tip in tips) + "</ul></div>"
    )


CSS = """
.tier {font-weight: 600; margin-right: 6px} .tier.strong {color: var(--color-accent)}
.corrected {margin: 0 0 8px; font-style: italic}
.moments {display: grid; grid-template-columns: repeat(auto-fill, minmax(260px, 1fr)); gap: 14px}
.moment {border: 1px solid var(--border-color-primary); border-radius: 12px; overflow: hidden; cursor: pointer;
  background: var(--background-fill-primary); transition: box-shadow .15s}
.moment:hover, .moment:focus {box-shadow: 0 4px 14px rgba(0,0,0,.15); outline: none}
.moment .thumb {position: relative; aspect-ratio: 16 / 9; background: #20202a}
.moment .thumb img {width: 100%; height: 100%; object-fit: cover; display: block}
.moment .when {position: absolute; right: 6px; bottom: 6px; background: rgba(0,0,0,.75); color: #fff;
  font-size: .8em; padding: 1px 6px; border-radius: 6px}
.moment .body {padding: 8px 10px}
.moment h4 {margin: 0 0 4px; font-size: 1em; white-space: nowrap; overflow: hidden; text-overflow: ellipsis}
.moment .said {margin: 0 0 6px; font-size: .9em; display: -webkit-box; -webkit-line-clamp: 3;
  -webkit-box-orient: vertical; overflow: hidden}
.moment mark {background: #fde68a; color: inherit; padding: 0 1px; border-radius: 2px}
.chip {display: inline-block; margin: 0 4px 2px 0; padding: 0 8px; border-radius: 10px; font-size: .8em;
  background: var(--color-accent-soft)}
.moment .with {margin: 4px 0 0; font-size: .85em}
.watch {display: grid; grid-template-columns: minmax(0, 2fr) minmax(0, 1fr); gap: 16px}
@media (max-width: 800px) {.watch {grid-template-columns: minmax(0, 1fr)}}
.timeline {position: relative; height: 14px; margin: 6px 0; border-radius: 7px; background: var(--border-color-primary)}
.timeline .mark {position: absolute; top: 0; height: 14px; min-width: 6px; border: 0; padding: 0; border-radius: 7px;
  background: #6366f1; cursor: pointer}
.timeline .mark.now {background: #f59e0b}
.transcript {max-height: 520px; overflow-y: auto; border: 1px solid var(--border-color-primary); border-radius: 12px;
  padding: 8px 10px}
.transcript h4 {margin: 0 0 6px}
.transcript ol {list-style: none; margin: 0; padding: 0}
.transcript li {padding: 3px 6px; border-radius: 6px; cursor: pointer; font-size: .92em}
.transcript li:hover {background: var(--background-fill-secondary)}
.transcript li.now {background: var(--color-accent-soft)}
.transcript .at {display: inline-block; min-width: 3.2em; color: var(--body-text-color-subdued); font-variant-numeric: tabular-nums}
.transcript mark, .watch mark {background: #fde68a; color: inherit; border-radius: 2px}
.watch .share, .public .share {border: 1px solid var(--border-color-primary); border-radius: 8px; padding: 1px 8px;
  cursor: pointer; background: var(--background-fill-secondary)}
.watch .share.copied::after, .public .share.copied::after {content: " ✓"}
.public {margin: 0; padding: 4px 12px 10px}
.public .url {display: inline-block; max-width: min(22em, 100%); overflow: hidden; text-overflow: ellipsis;
  white-space: nowrap; vertical-align: bottom}
.empty {padding: 12px; border: 1px dashed var(--border-color-primary); border-radius: 12px}
"""

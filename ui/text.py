"""The UI's words: labels through Gradio's i18n (:data:`I18N`: the browser's language, or the one picked in Account,
which :data:`HEAD` makes the browser's); the words themselves are :mod:`heimdex.app.text`'s."""

from __future__ import annotations

import gradio as gr

from heimdex.app.text import EN, KO, error, say, scene_words, tag_name

__all__ = [
    "EN",
    "CHOOSE_LANGUAGE_JS",
    "HEAD",
    "I18N",
    "PAGE_LANGUAGE_JS",
    "error",
    "say",
    "scene_words",
    "t",
    "tag_name",
]

I18N = gr.I18n(en=EN, ko=KO)

# The language picked in Account (localStorage) becomes the browser's before Gradio reads it.
HEAD = """<script>
(() => {
  const chosen = localStorage.getItem('heimdex-ui-lang');
  if (chosen === 'en' || chosen === 'ko') {
    Object.defineProperty(navigator, 'language', {get: () => chosen, configurable: true});
    Object.defineProperty(navigator, 'languages', {get: () => [chosen], configurable: true});
  }
})();
</script>"""
PAGE_LANGUAGE_JS = """() => {
  const chosen = localStorage.getItem('heimdex-ui-lang');
  if (chosen === 'en' || chosen === 'ko') return chosen;
  return (navigator.language || 'en').toLowerCase().startsWith('ko') ? 'ko' : 'en';
}"""
# A language picked in Account: kept, and Gradio's labels switched in place through its own changeLocale (what its
# Settings panel calls; the module the page already loaded). Were that module not found, the page reloads in it.
CHOOSE_LANGUAGE_JS = r"""async (lang) => {
  localStorage.setItem('heimdex-ui-lang', lang);
  const core = performance.getEntriesByType('resource').map((e) => e.name)
    .find((name) => /\/assets\/core-[\w-]+\.js$/.test(name));
  try {
    (await import(core)).changeLocale(lang);
  } catch (e) {
    location.reload();
  }
  return lang;
}"""


def t(key: str):
    """A label for Gradio to show in the page's language."""
    return I18N(key)

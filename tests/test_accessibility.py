"""WCAG 2.1 AA, automated: axe-core over every tab of the real app, with real content, at 1280 and 390 px.

Signed out (the Account tab a visitor lands on), then signed in with one indexed video, a search answered and its
first moment open in the Player: every tab of the tab bar (as the page lists them) at a desktop's 1280x900 and a
phone's 390x844. Serious and critical violations fail the test; a table of all violations (rule, first target,
the colours and ratio of a contrast failure) is printed and in the failure message, and every finding (with axe's
"incomplete" results, for a person to review) goes to ``test-artifacts/axe.json``.

axe-core is the npm tarball ``make install-test`` packs into ``.venv/share/heimdex`` (the Makefile's AXE_VERSION).
"""

from __future__ import annotations

import json
import sys
import tarfile
from collections import Counter
from pathlib import Path

import pytest
from playwright.sync_api import expect

from helpers import ROOT, sign_up

pytestmark = pytest.mark.e2e

ARTIFACTS = ROOT / "test-artifacts"
AXE_VERSION = "4.14.1"  # the Makefile's AXE_VERSION
AXE_TGZ = Path(sys.prefix) / "share" / "heimdex" / f"axe-core-{AXE_VERSION}.tgz"
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
VIEWPORTS = [{"width": 1280, "height": 900}, {"width": 390, "height": 844}]
IMPACTS = ("critical", "serious", "moderate", "minor")
BLOCKING = {"critical", "serious"}

# The page is still for axe: fonts in, every image shown has loaded (lazy ones asked for now), no transition or
# finite animation under way (a colour half-way through one is not the colour shown), no Gradio status tracker
# pending over a component.
SETTLED = """() => {
  const shown = e => e.getClientRects().length > 0 && getComputedStyle(e).visibility !== 'hidden';
  if (document.fonts.status !== 'loaded') return false;
  for (const i of document.images) {
    if (i.loading === 'lazy') i.loading = 'eager';
    if (shown(i) && !i.complete) return false;
  }
  const moving = document.getAnimations().some(
    a => a.playState === 'running' && a.effect && a.effect.getComputedTiming().iterations !== Infinity);
  if (moving) return false;
  return [...document.querySelectorAll('[data-testid=status-tracker]')].every(
    t => t.classList.contains('hide') || !shown(t));
}"""

RUN_AXE = """async (tags) => {
  const result = await axe.run(document, {runOnly: {type: 'tag', values: tags}});
  const shown = list => list.map(v => ({
    id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl, tags: v.tags,
    nodes: v.nodes.map(n => ({
      target: n.target, html: n.html.slice(0, 300), impact: n.impact, failureSummary: n.failureSummary,
      data: (n.any.concat(n.all, n.none).find(c => c.data && typeof c.data === 'object') || {}).data || null,
    })),
  }));
  return {violations: shown(result.violations), incomplete: shown(result.incomplete)};
}"""


@pytest.fixture(scope="module")
def axe_source() -> str:
    if not AXE_TGZ.is_file():
        pytest.fail(f"axe-core is not installed ({AXE_TGZ} is missing; `make install-test` packs it)")
    with tarfile.open(AXE_TGZ) as tgz:
        member = tgz.extractfile("package/axe.min.js")
        assert member is not None
        return member.read().decode()


def _tabs(page) -> list[str]:
    """The names of the tab bar's tabs, in order (those folded into Gradio's "More tabs" menu included)."""
    tabs = page.get_by_role("tab", include_hidden=True)
    names = [name.strip() for name in tabs.all_inner_texts()]
    return list(dict.fromkeys(name for name in names if name))


def _selected(page, name: str):
    return page.get_by_role("tab", name=name, exact=True, selected=True)


def _open(page, name: str) -> None:
    """Select the tab called ``name`` as a user would (through Gradio's "More tabs" menu where it is folded in)."""
    tab = page.get_by_role("tab", name=name, exact=True)
    if tab.count():
        tab.first.click()
    else:
        page.get_by_role("button", name="More tabs").click()
        page.locator(".overflow-dropdown button", has_text=name).first.click()
    expect(_selected(page, name)).to_be_visible(timeout=10_000)
    expect(page.locator("[role=tabpanel]:visible").first).to_be_visible(timeout=10_000)


def _audit(page, axe_source: str, state: str, tab: str, viewport: dict) -> dict:
    page.wait_for_function(SETTLED, timeout=60_000)
    if not page.evaluate("() => typeof axe !== 'undefined'"):
        page.add_script_tag(content=axe_source)
    result = page.evaluate(RUN_AXE, TAGS)
    expect(_selected(page, tab)).to_be_visible(timeout=1_000)  # still the tab audited
    return {
        "state": state,
        "tab": tab,
        "width": viewport["width"],
        "height": viewport["height"],
        "violations": result["violations"],
        "incomplete": result["incomplete"],  # for a person to review (a contrast over a gradient, ...); not failed
    }


def _contrast(node: dict) -> str:
    data = node.get("data") or {}
    if "contrastRatio" not in data:
        return ""
    return (
        f" {data.get('contrastRatio')}:1 (needs {data.get('expectedContrastRatio')}),"
        f" {data.get('fgColor')} on {data.get('bgColor')}, {data.get('fontSize')} {data.get('fontWeight')}"
    )


def _table(findings: list[dict]) -> str:
    lines = [f"axe-core {AXE_VERSION}, tags {', '.join(TAGS)}", ""]
    lines.append(f"{'state':<11}{'tab':<12}{'width':>6}" + "".join(f"{impact:>10}" for impact in IMPACTS))
    for finding in findings:
        counts = Counter(v["impact"] for v in finding["violations"])
        lines.append(
            f"{finding['state']:<11}{finding['tab']:<12}{finding['width']:>6}"
            + "".join(f"{counts.get(impact, 0):>10}" for impact in IMPACTS)
        )
    lines.append("")
    for finding in findings:
        ordered = sorted(finding["violations"], key=lambda v: IMPACTS.index(v["impact"] or "minor"))
        for v in ordered:
            first = v["nodes"][0]
            lines.append(
                f"{finding['state']} / {finding['tab']} / {finding['width']}: {v['impact']} {v['id']}"
                f" ({len(v['nodes'])} node(s)) {' '.join(first['target'])!s}{_contrast(first)}"
            )
    return "\n".join(lines)


def test_every_tab_meets_wcag_21_aa(browser, server, media, axe_source):
    findings: list[dict] = []
    page = browser.new_page(viewport=VIEWPORTS[0])
    page.goto(server + "/")
    expect(page.get_by_label("Email")).to_be_visible(timeout=30_000)

    landing = page.get_by_role("tab", selected=True).inner_text().strip()  # Account, where a visitor lands
    for viewport in VIEWPORTS:
        page.set_viewport_size(viewport)
        _open(page, landing)
        findings.append(_audit(page, axe_source, "signed-out", landing, viewport))
    page.set_viewport_size(VIEWPORTS[0])
    _open(page, landing)

    sign_up(page, "a11y")

    _open(page, "Upload")
    page.locator("#upload-files input[type=file]").set_input_files(str(media / "walkthrough_en.mp4"))
    page.get_by_role("button", name="Upload and index").click()
    expect(page.locator("#upload-msg")).to_contain_text("✓ walkthrough_en.mp4", timeout=60_000)

    _open(page, "Library")
    expect(page.locator("#library .video.indexed")).to_have_count(1, timeout=300_000)
    page.wait_for_function(
        "() => { const i = document.querySelector('#library .video img'); return i && i.naturalWidth > 0; }",
        timeout=30_000,
    )

    _open(page, "Search")
    box = page.get_by_label("What do you remember?")
    box.fill("ask not what your country can do for you")
    box.press("Enter")
    first = page.locator("#moments .moment").first
    expect(first).to_be_visible(timeout=60_000)
    page.wait_for_function(
        "() => { const i = document.querySelector('#moments .moment img'); return i && i.naturalWidth > 0; }",
        timeout=30_000,
    )
    first.click()
    page.wait_for_function(
        "() => { const v = document.querySelector('#player video'); return v && v.readyState >= 1; }", timeout=30_000
    )
    expect(page.locator("#player .transcript li").first).to_be_attached(timeout=30_000)
    page.evaluate("() => document.querySelector('#player video').pause()")

    for viewport in VIEWPORTS:
        page.set_viewport_size(viewport)
        names = _tabs(page)
        assert len(names) >= 5, names
        for name in names:
            _open(page, name)
            findings.append(_audit(page, axe_source, "signed-in", name, viewport))
    page.close()

    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "axe.json").write_text(
        json.dumps({"axe": AXE_VERSION, "tags": TAGS, "findings": findings}, indent=2, ensure_ascii=False)
    )
    table = _table(findings)
    print("\n" + table)
    blocking = [(f["tab"], f["width"], v["id"]) for f in findings for v in f["violations"] if v["impact"] in BLOCKING]
    assert not blocking, f"{len(blocking)} serious or critical WCAG 2.1 AA violation(s):\n{table}"

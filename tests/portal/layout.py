"""Layout checks for any portal page in a real browser, reusable by every page's test.

``page_problems(page, name, wide=...)`` returns what a person would find wrong on the page as
loaded: the page wider than the window (``document.documentElement.scrollWidth > innerWidth``),
a word broken in the middle ("Europe/Pari s"), at desktop width a table that has to be scrolled
to see its last column, and axe-core's serious or critical accessibility violations.
``hidden_sideways(page, locator)`` says whether an element is cut off left or right (by the
window or by a box that scrolls). A new page is covered by adding its path to the list its
test walks (tests/portal/test_browser_layout.py, ``PAGES``).
"""

from __future__ import annotations

from playwright.sync_api import BrowserContext, Locator, Page

from tests.support.server import PROJECT_ROOT

AXE = PROJECT_ROOT / "node_modules" / "axe-core" / "axe.min.js"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1440, "height": 900}

# Codes, addresses, secrets and raw audit details may break anywhere on purpose.
_BROKEN_WORDS = """
() => {
  const found = [];
  const free = (el) => el.closest('.secret, .invite-code, .uri, .kv, code, svg, .visually-hidden, [hidden]');
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const parent = node.parentElement;
    if (!parent || free(parent) || !parent.getClientRects().length) continue;
    for (const match of node.textContent.matchAll(/\\S{2,}/g)) {
      const range = document.createRange();
      range.setStart(node, match.index);
      range.setEnd(node, match.index + match[0].length);
      const lines = [...range.getClientRects()].filter((r) => r.width > 0);
      if (lines.length < 2 || new Set(lines.map((r) => Math.round(r.top))).size < 2) continue;
      // Where does the next line start?  A break after "-", "/", "–" or "·" is a fair one.
      let top = null;
      for (let i = 0; i < match[0].length; i++) {
        const one = document.createRange();
        one.setStart(node, match.index + i);
        one.setEnd(node, match.index + i + 1);
        const rect = [...one.getClientRects()].find((r) => r.width > 0);
        if (!rect) continue;
        if (top !== null && Math.round(rect.top) > top + 2 && !'-/–·_.@'.includes(match[0][i - 1])) {
          found.push(match[0].slice(0, i) + ' | ' + match[0].slice(i));
          break;
        }
        top = Math.round(rect.top);
      }
    }
  }
  return found;
}
"""

_SCROLLING_BOXES = """
() => [...document.querySelectorAll('main *')]
  .filter((el) => el.getClientRects().length && el.scrollWidth > el.clientWidth + 1
    && ['auto', 'scroll'].includes(getComputedStyle(el).overflowX))
  .map((el) => el.tagName.toLowerCase() + (el.className ? '.' + String(el.className).split(' ').join('.') : ''))
"""

_HIDDEN_SIDEWAYS = """
(el) => {
  const rect = el.getBoundingClientRect();
  if (rect.left < -1 || rect.right > window.innerWidth + 1) return true;
  for (let box = el.parentElement; box; box = box.parentElement) {
    if (getComputedStyle(box).overflowX === 'visible') continue;
    const frame = box.getBoundingClientRect();
    if (rect.left < frame.left - 1 || rect.right > frame.right + 1) return true;
  }
  return false;
}
"""


def overflow(page: Page) -> tuple[int, int]:
    """(document width, window width): the first larger means the page scrolls sideways."""
    widths = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    return int(widths[0]), int(widths[1])


def preload_axe(context: BrowserContext) -> BrowserContext:
    """Load axe-core into every page the context opens, as the page starts: half the cost of
    injecting it into each page later (Chromium keeps the compiled script between pages)."""
    context.add_init_script(path=AXE)
    return context


def axe_violations(page: Page) -> list[str]:
    """axe-core's serious and critical findings (the context must bypass the portal's CSP)."""
    if not page.evaluate("typeof axe !== 'undefined'"):  # a context without preload_axe
        page.add_script_tag(path=str(AXE))
    result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return [
        f"{v['id']} ({v['impact']}) {[n['target'] for n in v['nodes']][:3]}"
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def hidden_sideways(locator: Locator) -> bool:
    return bool(locator.evaluate(_HIDDEN_SIDEWAYS))


def page_problems(page: Page, name: str, *, wide: bool) -> list[str]:
    """Everything wrong with the page as shown, each prefixed with ``name``."""
    found: list[str] = []
    document, window = overflow(page)
    if document > window:
        found.append(f"{name}: the page is {document}px wide in a {window}px window")
    found += [f"{name}: a word breaks in the middle: {word!r}" for word in page.evaluate(_BROKEN_WORDS)]
    if wide:  # on a desktop every column fits: nothing to scroll to
        found += [f"{name}: {box} scrolls sideways at desktop width" for box in page.evaluate(_SCROLLING_BOXES)]
    found += [f"{name}: {violation}" for violation in axe_violations(page)]
    return found

"""Debian's Chromium, as every browser test launches it: the package chromium-headless-shell, the
same Blink and V8 release as the desktop browser built without its window toolkit (the build
Playwright itself launches for headless runs). It starts and renders with about a quarter less
CPU than the desktop binary in headless mode (the browser tests: 51 s of CPU in 59 s against 38 s
in 48 s on the same machine)."""

from __future__ import annotations

CHROMIUM = "/usr/bin/chromium-headless-shell"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

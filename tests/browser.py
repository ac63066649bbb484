"""Debian's Chromium for the page tests, driven by Playwright (never a downloaded browser),
with axe-core from npm; both installed by scripts/setup.sh."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
AXE = REPO / "node_modules" / "axe-core" / "axe.min.js"
SCREENS = REPO / "docs" / "screens"  # the screenshots the README shows


def require_browser(what: str) -> None:
    """Fail (never skip) when the browser or axe-core is missing: the set-up installs both."""
    if not CHROMIUM.exists() or not AXE.exists():  # pragma: no cover
        pytest.fail(f"{what} need /usr/bin/chromium and node_modules/axe-core: run "
                    "scripts/setup.sh", pytrace=False)


def chromium(playwright: Any) -> Any:
    """A headless Chromium from `sync_playwright()`."""
    return playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                      args=["--no-sandbox"])

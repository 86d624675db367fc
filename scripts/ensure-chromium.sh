#!/bin/sh
# Debian's chromium for the browser tests (tests/api/test_temporal_ui_browser.py, test_work_browser.py),
# and a Chinese font, so the customer's page (simplified Chinese) is legible in the screenshots.
# Idempotent: nothing to do when both are there. Fails (non-zero) when chromium cannot be
# installed, so the browser tests fail rather than skip; a missing font only warns (the tests
# read the page's text, not its pixels).
set -eu
FONT_DIR=/usr/share/fonts/truetype/wqy
if [ -x /usr/bin/chromium ] && [ -d "$FONT_DIR" ]; then
    exit 0
fi
. "$(dirname "$0")/apt.sh"
if [ ! -x /usr/bin/chromium ]; then
    apt_install chromium
    test -x /usr/bin/chromium
fi
if [ ! -d "$FONT_DIR" ]; then
    apt_install fonts-wqy-zenhei || echo "warning: no Chinese font; screenshots of the customer's page show boxes" >&2
fi

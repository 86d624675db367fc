#!/bin/sh
# Debian's chromium for the browser tests (tests/api/test_temporal_ui_browser.py, test_work_browser.py),
# and a Chinese font, so the customer's page (simplified Chinese) is legible in the screenshots.
# Idempotent: nothing to do when both are there. Fails (non-zero) when they cannot be installed,
# so the browser test fails rather than skips.
set -eu
if [ -x /usr/bin/chromium ] && [ -d /usr/share/fonts/truetype/wqy ]; then
    exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update
$SUDO apt-get install -y chromium fonts-wqy-zenhei
test -x /usr/bin/chromium

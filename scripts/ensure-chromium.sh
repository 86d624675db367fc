#!/bin/sh
# Debian's chromium for the browser test (tests/api/test_temporal_ui_browser.py). Idempotent:
# nothing to do when /usr/bin/chromium is there. Fails (non-zero) when it cannot be installed,
# so the browser test fails rather than skips.
set -eu
if [ -x /usr/bin/chromium ]; then
    exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update
$SUDO apt-get install -y chromium
test -x /usr/bin/chromium

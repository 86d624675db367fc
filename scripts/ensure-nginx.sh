#!/bin/sh
# Debian's nginx, the reverse proxy in front of two or more API processes (the two-host test,
# docs/stores.md). Idempotent: nothing to do when nginx is installed. Only the binary: the project
# starts its own nginx with a config of its own (dev/nginx.py), never the system's service.
set -eu
if command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ]; then
    exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
# policy-rc.d 101: the package's own service is not started (it would take port 80)
if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
    $SUDO chmod +x /usr/sbin/policy-rc.d
    CLEANUP=1
fi
$SUDO apt-get update -qq || true
$SUDO apt-get install -y -qq --no-install-recommends nginx-light >/dev/null 2>&1 || $SUDO apt-get install -y -qq --no-install-recommends nginx
if [ "${CLEANUP:-0}" = 1 ]; then
    $SUDO rm -f /usr/sbin/policy-rc.d
fi
test -x /usr/sbin/nginx

#!/bin/sh
# Debian's nginx, the reverse proxy in front of two or more API processes (the two-host test,
# docs/stores.md). Idempotent: nothing to do when nginx is installed. Only the binary: the project
# starts its own nginx with a config of its own (dev/nginx.py), never the system's service (it
# would take port 80; apt.sh keeps it stopped).
set -eu
if command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ]; then
    exit 0
fi
. "$(dirname "$0")/apt.sh"
apt_install --no-install-recommends nginx-light || apt_install --no-install-recommends nginx
test -x /usr/sbin/nginx

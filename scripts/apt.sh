# Sourced by the ensure-*.sh scripts: Debian packages installed the one way the project does it.
# apt_install [apt-get option...] PACKAGE...: installs them non-interactively (as root, or through
# sudo), with the package lists updated once per script, and without starting any service a
# package brings (policy-rc.d answers 101 while it runs): the project starts its own servers in
# folders of its own. POLICY_RC_D is for the script's test (tests/scripts/test_apt.py).
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
APT_UPDATED=0
POLICY_RC_D="${POLICY_RC_D:-/usr/sbin/policy-rc.d}"

apt_install() {
    if [ "$APT_UPDATED" = 0 ]; then
        $SUDO apt-get update -qq || echo "warning: apt-get update failed; installing from the package lists already here" >&2
        APT_UPDATED=1
    fi
    policy_added=0
    if [ ! -e "$POLICY_RC_D" ]; then
        printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$POLICY_RC_D" >/dev/null
        $SUDO chmod +x "$POLICY_RC_D"
        policy_added=1
    fi
    status=0
    $SUDO apt-get install -y -qq "$@" || status=$?
    if [ "$policy_added" = 1 ]; then
        $SUDO rm -f "$POLICY_RC_D"
    fi
    return "$status"
}

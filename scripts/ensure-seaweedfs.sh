#!/bin/sh
# SeaweedFS's `weed` (Apache-2.0), the S3-compatible object store of the tests and of compose's
# dev set-up, built from the Go module proxy at one exact version into a cache folder that is kept
# between runs. Prints the binary's path. Needs Go (>= 1.24); nothing is downloaded at run time.
set -eu
VERSION="${SEAWEEDFS_VERSION:-v0.0.0-20261109003541-7506e5f91cd6}"  # the proxy's newest on 2026-12-06
CACHE="${PREMIUM_CLAIMS_CACHE:-$HOME/.cache/premium-claims}"
DEST="$CACHE/seaweedfs/$VERSION"
if [ -x "$DEST/weed" ]; then
    echo "$DEST/weed"
    exit 0
fi
command -v go >/dev/null 2>&1 || { echo "ensure-seaweedfs: Go is needed to build SeaweedFS's weed" >&2; exit 1; }
mkdir -p "$DEST"
# `go install module@version` refuses SeaweedFS (its go.mod has replace directives), so: fetch the
# module source at that version through the proxy, then build its ./weed inside it, which honours
# them. A module cache and build cache of its own, so the user's GOPATH is never touched; nice
# keeps a shared machine usable while it compiles.
export GOMODCACHE="$CACHE/go-mod" GOCACHE="$CACHE/go-build" GOFLAGS=-mod=mod
SRC=$(go mod download -json "github.com/seaweedfs/seaweedfs@$VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
[ -d "$SRC" ] || { echo "ensure-seaweedfs: no source for $VERSION" >&2; exit 1; }
mkdir -p "$DEST.tmp"
(cd "$SRC" && nice -n 15 go build -trimpath -o "$DEST.tmp/weed" ./weed) >&2
mv "$DEST.tmp/weed" "$DEST/weed"
rmdir "$DEST.tmp" 2>/dev/null || true
echo "$DEST/weed"

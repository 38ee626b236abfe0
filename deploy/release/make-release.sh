#!/bin/sh
# Builds a release tarball, camera-service-<version>.tar.gz, from a built checkout
# (`npm ci && npx tsc -b` first), for `camera-service deploy` (deploy/release/README.md).
# Usage: deploy/release/make-release.sh [OUTDIR] [VERSION]
#   OUTDIR   where the tarball and its .sha256 go (default: ./release)
#   VERSION  default: packages/server/package.json's version
# The production dependencies are installed into the release by `npm ci --omit=dev`
# from the lockfile (offline when npm's cache has them).
set -eu

root=$(cd "$(dirname "$0")/../.." && pwd)
out=${1:-"$root/release"}
version=${2:-$(node -p "require('$root/packages/server/package.json').version")}
case "$version" in
  [0-9A-Za-z]*) ;;
  *) echo "make-release: the version must start with a letter or digit, not '$version'" >&2; exit 64 ;;
esac
if [ ! -f "$root/packages/server/dist/src/bin.js" ]; then
  echo "make-release: build first (npx tsc -b): $root/packages/server/dist/src/bin.js is missing" >&2
  exit 1
fi

name="camera-service-$version"
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
top="$stage/$name"
mkdir -p "$top/bin" "$out"

cp "$root/package.json" "$root/package-lock.json" "$top/"
for pkg in "$root"/packages/*/; do
  rel="packages/$(basename "$pkg")"
  mkdir -p "$top/$rel"
  cp "$pkg/package.json" "$top/$rel/"
  # The built code, not the tests nor the TypeScript build state.
  if [ -d "$pkg/dist" ]; then
    cp -R "$pkg/dist" "$top/$rel/"
    rm -rf "$top/$rel/dist/test" "$top/$rel/dist/tsconfig.tsbuildinfo"
  fi
  for extra in bin public; do
    if [ -d "$pkg/$extra" ]; then cp -R "$pkg/$extra" "$top/$rel/"; fi
  done
done
# The stream launcher MediaMTX runs (a POSIX sh script, not built).
mkdir -p "$top/packages/server/scripts"
cp "$root/packages/server/scripts/stream-launch" "$top/packages/server/scripts/"

(cd "$top" && npm ci --omit=dev --ignore-scripts --prefer-offline --no-audit --no-fund --loglevel=error >/dev/null)

cat >"$top/bin/camera-service" <<'LAUNCHER'
#!/bin/sh
# This release's camera-service (NODE names another node binary, default: node on PATH).
here=$(dirname "$(readlink -f "$0")")
exec "${NODE:-node}" "$here/../packages/server/dist/src/bin.js" "$@"
LAUNCHER
chmod 0755 "$top/bin/camera-service"
echo "$version" >"$top/VERSION"

tarball="$out/$name.tar.gz"
tar -czf "$tarball.partial" -C "$stage" "$name"
mv "$tarball.partial" "$tarball"
(cd "$out" && sha256sum "$name.tar.gz" >"$name.tar.gz.sha256")
echo "$tarball"

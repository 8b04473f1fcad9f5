#!/usr/bin/env bash
# Refresh the vendored KaTeX (the offline HTML sheet inlines it): take the `katex` package from
# the npm registry with `npm pack`, copy its minified JS and CSS, its woff2 fonts (every browser
# the sheet targets reads woff2; the woff/ttf copies would triple the size) and its licence into
# quizzes/vendor/katex/. Usage: scripts/vendor_katex.sh [VERSION]   (default: the latest)
set -euo pipefail
cd "$(dirname "$0")/.."
version="${1:-latest}"
target=quizzes/vendor/katex
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

(cd "$work" && npm pack --silent "katex@${version}" >/dev/null && tar xzf katex-*.tgz)
dist="$work/package/dist"
rm -rf "$target"
mkdir -p "$target/fonts"
cp "$dist/katex.min.js" "$dist/katex.min.css" "$target/"
cp "$dist"/fonts/*.woff2 "$target/fonts/"
cp "$work/package/LICENSE" "$target/LICENSE"
node -e 'process.stdout.write(require(process.argv[1]).version)' "$work/package/package.json" \
    > "$target/VERSION"
echo "vendored KaTeX $(cat "$target/VERSION") into $target ($(du -sh "$target" | cut -f1))"

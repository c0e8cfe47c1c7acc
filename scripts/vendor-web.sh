#!/usr/bin/env bash
# Fetch the caseworker page's third-party web assets from the npm registry with `npm pack`
# (exact versions below) and copy the built files and their licences into
# src/eligibility/web/static/vendor/. The result is committed: nothing is fetched at install or
# run time, and no page loads anything from a CDN. Re-run only to upgrade; record the versions
# in src/eligibility/web/static/vendor/VERSIONS.txt (this script writes it).
set -euo pipefail
cd "$(dirname "$0")/.."
HTMX=2.0.11            # htmx.org (0BSD) — the maintained 2.0.x line the page is written for
DS_CSS=1.22.0          # @digdir/designsystemet-css (MIT)
DS_THEME=1.11.0        # @digdir/designsystemet-theme (MIT)
AXE=4.14.1             # axe-core (MPL-2.0) — only injected by the browser tests
out=src/eligibility/web/static/vendor
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
( cd "$tmp"
  npm pack --silent "htmx.org@$HTMX" "@digdir/designsystemet-css@$DS_CSS" \
    "@digdir/designsystemet-theme@$DS_THEME" "axe-core@$AXE" >/dev/null
  for t in *.tgz; do d="${t%.tgz}"; mkdir "$d"; tar -xzf "$t" -C "$d"; done )
mkdir -p "$out"/htmx "$out"/designsystemet "$out"/axe-core
cp "$tmp"/htmx.org-$HTMX/package/dist/htmx.min.js "$out"/htmx/
cp "$tmp"/htmx.org-$HTMX/package/LICENSE "$out"/htmx/LICENSE
cp "$tmp"/digdir-designsystemet-css-$DS_CSS/package/dist/src/index.css "$out"/designsystemet/designsystemet.css
cp "$tmp"/digdir-designsystemet-css-$DS_CSS/package/LICENSE* "$out"/designsystemet/LICENSE-css 2>/dev/null \
  || cp "$tmp"/digdir-designsystemet-css-$DS_CSS/package/README.md "$out"/designsystemet/README-css.md
cp "$tmp"/digdir-designsystemet-theme-$DS_THEME/package/brand/digdir.css "$out"/designsystemet/theme-digdir.css
cp "$tmp"/digdir-designsystemet-theme-$DS_THEME/package/LICENSE* "$out"/designsystemet/LICENSE-theme 2>/dev/null \
  || cp "$tmp"/digdir-designsystemet-theme-$DS_THEME/package/README.md "$out"/designsystemet/README-theme.md
cp "$tmp"/axe-core-$AXE/package/axe.min.js "$out"/axe-core/
cp "$tmp"/axe-core-$AXE/package/LICENSE "$out"/axe-core/LICENSE
{
  echo "Vendored with scripts/vendor-web.sh (npm pack from registry.npmjs.org; files unchanged)."
  echo "package@version | licence | file (path in the package) | sha256"
  for row in "htmx.org@$HTMX|0BSD|htmx/htmx.min.js|dist/htmx.min.js" \
             "@digdir/designsystemet-css@$DS_CSS|MIT|designsystemet/designsystemet.css|dist/src/index.css" \
             "@digdir/designsystemet-theme@$DS_THEME|MIT|designsystemet/theme-digdir.css|brand/digdir.css" \
             "axe-core@$AXE|MPL-2.0 (browser tests only)|axe-core/axe.min.js|axe.min.js"; do
    IFS='|' read -r pkg lic file orig <<<"$row"
    echo "$pkg | $lic | $file ($orig) | $(sha256sum "$out/$file" | cut -d' ' -f1)"
  done
} > "$out"/VERSIONS.txt
ls -R "$out"

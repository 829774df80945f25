#!/bin/sh
# nginx/vendor.sh: copies the third-party browser files of the viewer and of
# the API docs at /docs/ (Swagger UI) from node_modules (installed by
# `npm ci` from package-lock.json) into
# nginx/www/vendor/, which nginx serves and git ignores. run.sh and test.sh
# call it; run it by hand after `npm ci` when serving nginx/www otherwise.
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
nm=$root/node_modules
out=$root/nginx/www/vendor

# source-in-node_modules  name-in-vendor
files='
cytoscape/dist/cytoscape.esm.min.mjs                     cytoscape.esm.min.js
cytoscape/LICENSE                                        LICENSE.cytoscape
cytoscape-dagre/dist/cytoscape-dagre.min.mjs             cytoscape-dagre.min.js
cytoscape-dagre/LICENSE                                  LICENSE.cytoscape-dagre
@fontsource-variable/inter/files/inter-latin-wght-normal.woff2      fonts/inter-latin-wght-normal.woff2
@fontsource-variable/inter/files/inter-latin-ext-wght-normal.woff2  fonts/inter-latin-ext-wght-normal.woff2
@fontsource-variable/inter/LICENSE                       fonts/LICENSE.inter
swagger-ui-dist/swagger-ui-bundle.js                     swagger-ui-bundle.js
swagger-ui-dist/swagger-ui.css                           swagger-ui.css
swagger-ui-dist/LICENSE                                  LICENSE.swagger-ui
swagger-ui-dist/NOTICE                                   LICENSE.swagger-ui-NOTICE
swagger-ui-dist/swagger-ui-bundle.js.LICENSE.txt         LICENSE.swagger-ui-bundle.txt
'

missing=
for f in $(printf '%s\n' "$files" | awk 'NF == 2 { print $1 }'); do
    [ -f "$nm/$f" ] || missing="$missing $f"
done
if [ -n "$missing" ]; then
    echo "nginx/vendor.sh: missing in node_modules:$missing" >&2
    echo "  run 'npm ci' in $root first" >&2
    exit 1
fi

tmp=$(mktemp -d "$root/nginx/www/.vendor.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
printf '%s\n' "$files" | while read -r src dst; do
    [ -n "$src" ] || continue
    mkdir -p "$tmp/$(dirname "$dst")"
    cp "$nm/$src" "$tmp/$dst"
done
# Where each file came from, with the versions package-lock.json pinned.
{
    echo "Copied by nginx/vendor.sh from node_modules; do not edit or commit."
    for pkg in cytoscape cytoscape-dagre @fontsource-variable/inter swagger-ui-dist; do
        printf '%s %s\n' "$pkg" "$(sed -n 's/^  "version": "\(.*\)",$/\1/p' "$nm/$pkg/package.json" | head -n 1)"
    done
} >"$tmp/README"
chmod -R a+rX "$tmp"
rm -rf "$out"
mv "$tmp" "$out"
trap - EXIT

#!/usr/bin/env bash
# browser: headless Chromium (Debian's /usr/bin/chromium) driven by playwright-core
# (tests/e2e/browser/voting.js) clicks the vote page's buttons and sees its choice marked, then
# watches the result page follow two more votes live, without reloading. Screenshots of both
# pages are kept in the artifacts; E2E_UPDATE_DOCS=1 also copies the result page's to
# docs/images/result.png.
TEST_NAME=browser
. "$(dirname "$0")/lib.sh"
browser_dir=$E2E_ROOT/tests/e2e/browser
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}

[ -x "$CHROMIUM" ] || fail "no Chromium at $CHROMIUM: run scripts/packages.sh (packages chromium chromium-driver)"
command -v node >/dev/null || fail "node is missing"

# playwright-core from package-lock.json, installed again only when the lock file changed. It is
# the library alone: it never downloads a browser.
if ! cmp -s "$browser_dir/package-lock.json" "$browser_dir/node_modules/.ccompose-lock"; then
    log "npm ci in tests/e2e/browser"
    (cd "$browser_dir" && npm ci --no-audit --no-fund --loglevel=error) >"$E2E_ARTIFACTS/npm.log" 2>&1 ||
        { cat "$E2E_ARTIFACTS/npm.log"; fail "npm ci failed"; }
    cp "$browser_dir/package-lock.json" "$browser_dir/node_modules/.ccompose-lock"
fi

e2e_up
log "chromium: vote, then watch the result page"
CHROMIUM=$CHROMIUM timeout 120 node "$browser_dir/voting.js" --vote-url "$VOTE_URL" \
    --result-url "$RESULT_URL" --out "$E2E_ARTIFACTS/screenshots" || fail "the browser checks failed"
# What the page showed is what the API counts: voter 1 changed to b, voters 2 and 3 chose a.
wait_results 10 2 1
ls "$E2E_ARTIFACTS/screenshots"
if [ "${E2E_UPDATE_DOCS:-0}" = 1 ]; then
    mkdir -p docs/images
    cp "$E2E_ARTIFACTS/screenshots/result.png" docs/images/result.png
    log "updated docs/images/result.png"
fi
log "ok"

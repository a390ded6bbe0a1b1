#!/bin/sh
# Firewall benchmark: render and apply a ruleset with 1,000 addresses in
# sets and 200 rules, and roll it back; medians over RUNS runs.
# Side by side: the same policy written the "long rule list" way (one rule
# per address, no sets), loaded with nft -f.
#
# Runs in a private network namespace (unshare -n): the host's ruleset is
# never touched. Needs root, nft, python3.
#
#   bench/firewall.sh            # builds the release binary first
#   PREAU_BIN=path RUNS=31 bench/firewall.sh
set -eu
here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
if [ -z "${PREAU_BIN:-}" ]; then
  (cd "$repo" && cargo build --release --quiet)
  # A shared target directory may be rebuilt by another checkout: keep a
  # private copy of this one's binary.
  PREAU_BIN=$(mktemp /tmp/preau-bench-XXXXXX)
  cp "${CARGO_TARGET_DIR:-$repo/target}/release/preau" "$PREAU_BIN"
  trap 'rm -f "$PREAU_BIN"' EXIT
fi
if ! "$PREAU_BIN" firewall --help >/dev/null 2>&1; then
  echo "$PREAU_BIN has no firewall module (another branch's build?)" >&2
  exit 1
fi
export PREAU_BIN RUNS="${RUNS:-21}"
unshare --net -- python3 "$here/firewall_driver.py"

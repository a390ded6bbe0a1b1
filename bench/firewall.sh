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
  PREAU_BIN="${CARGO_TARGET_DIR:-$repo/target}/release/preau"
fi
export PREAU_BIN RUNS="${RUNS:-21}"
exec unshare --net -- python3 "$here/firewall_driver.py"

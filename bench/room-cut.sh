#!/bin/sh
# Room cut benchmark (classroom tools with the firewall): how long a
# teacher's switch takes until the kernel has it — `preau proxy exam ROOM
# --off` (process start, the override stored, the firewall's sets replaced
# in one nft transaction) and `--stop` — with no other room cut, and with
# ROOMS-1 other rooms already cut (a transaction of ROOMS ranges); and one
# `preau apply` of a new ruleset with every room cut (the refill included).
# Medians and p99 over RUNS switches.
#
# Runs in a private network namespace (unshare -n): the host's ruleset is
# never touched. Needs root, nft, python3.
#
#   bench/room-cut.sh                       # the debug binary (cargo build)
#   PREAU_BIN=target/release/preau ROOMS=200 RUNS=41 bench/room-cut.sh
set -eu
here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
if [ -z "${PREAU_BIN:-}" ]; then
  (cd "$repo" && cargo build --quiet)
  PREAU_BIN=$(mktemp /tmp/preau-bench-XXXXXX)
  cp "${CARGO_TARGET_DIR:-$repo/target}/debug/preau" "$PREAU_BIN"
  trap 'rm -f "$PREAU_BIN"' EXIT
fi
if ! "$PREAU_BIN" firewall status --help >/dev/null 2>&1; then
  echo "$PREAU_BIN has no \`firewall status\` (another branch's build?)" >&2
  exit 1
fi
export PREAU_BIN RUNS="${RUNS:-41}" ROOMS="${ROOMS:-200}"
unshare --net -- python3 "$here/room_cut_driver.py"

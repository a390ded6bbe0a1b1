#!/bin/sh
# Single sign-on benchmark: the OpenID Connect token endpoint under
# CLIENTS concurrent relying parties (default 50), each refreshing its
# tokens in a loop for SECONDS (default 10). Every request authenticates
# the client, rotates the refresh token in one IMMEDIATE SQLite
# transaction and signs an ES256 ID token. Prints requests per second,
# p50, p99 and max latency (client side, loopback, plain HTTP: the TLS
# handshake of `preau serve` is not counted).
#
# usage: bench/sso.sh [CLIENTS] [SECONDS]
#   PROFILE=dev  build profile (default release)
set -eu
HERE=$(cd "$(dirname "$0")/.." && pwd)
cd "$HERE"
PREAU_BENCH_CLIENTS=${1:-50} PREAU_BENCH_SECONDS=${2:-10}
export PREAU_BENCH_CLIENTS PREAU_BENCH_SECONDS
if [ "${PROFILE:-release}" = release ]; then
  set -- --release
else
  set --
fi
cargo test "$@" --test sso -- --exact token_endpoint_benchmark --nocapture 2>&1 \
  | grep -E '^\{"clients"|test result'

#!/bin/sh
# Web filtering counts of the statistics page: reads DAYS daily proxy log
# files of LINES lines each (one in five denied, 12 categories) the way
# /console/statistiques does (proxy::log::filtering_counts, streamed a
# line at a time). Prints the median and worst of 5 runs, in ms, and the
# lines read per second.
#
# usage: bench/statistics-filtering.sh [DAYS [LINES]]   (default 20 200000)
#        PROFILE=dev for the dev profile (default release)
set -eu
cd "$(dirname "$0")/.."
days="${1:-20}" lines="${2:-200000}"
if [ "${PROFILE:-release}" = release ]; then set -- --release; else set --; fi
PREAU_BENCH_DAYS="$days" PREAU_BENCH_LINES="$lines" \
  cargo test "$@" --lib -- --exact modules::proxy::log::tests::filtering_counts_benchmark --nocapture 2>&1 \
  | grep -E '^\{"|test result'

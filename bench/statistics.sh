#!/bin/sh
# Usage statistics benchmark: the /console/statistiques page, its CSV and
# JSON exports over the school year 2025-2026, through the web router
# (guard, session, queries, SVG charts, template): 2,400 students and 150
# teachers signing in three days a week for 36 weeks (275,400 sign-ins in
# the audit log), 43,200 bookings of 30 resources, and the proxy's
# connection logs of 200 school days of LINES lines each (one in five
# denied, 12 categories). Prints the first load (which summarises every
# day of the logs), the median and worst of 7 loads of each, and the raw
# reading of one day's log and of the year's.
#
# usage: bench/statistics.sh [LINES]   (default 200000 proxy log lines a day)
#        PROFILE=dev for the dev profile (default release)
# The logs take about LINES x 200 x 120 bytes in a temporary directory
# (4.8 GB by default), deleted at the end.
set -eu
cd "$(dirname "$0")/.."
lines="${1:-200000}"
if [ "${PROFILE:-release}" = release ]; then set -- --release; else set --; fi
PREAU_BENCH_FULL=1 PREAU_BENCH_PROXY_LINES="$lines" \
  cargo test "$@" --lib -- --exact web::tests::statistics_benchmark --nocapture 2>&1 \
  | grep -E '^\{"|test result'

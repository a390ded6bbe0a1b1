#!/bin/sh
# Usage statistics benchmark: the /console/statistiques page, its CSV and
# JSON exports over a school year, through the web router (guard,
# session, queries, SVG charts, template): 2,400 students and 150
# teachers signing in three days a week for 36 weeks (275,400 sign-ins in
# the audit log) and 43,200 bookings of 30 resources. Prints the median
# and worst of 7 loads of each.
#
# usage: bench/statistics.sh        PROFILE=dev for the dev profile (default release)
set -eu
cd "$(dirname "$0")/.."
if [ "${PROFILE:-release}" = release ]; then set -- --release; else set --; fi
PREAU_BENCH_FULL=1 cargo test "$@" --lib -- --exact web::tests::statistics_benchmark --nocapture 2>&1 \
  | grep -E '^\{"|test result'

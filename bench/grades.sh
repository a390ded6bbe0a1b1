#!/bin/sh
# Grades benchmark (tests/grades_bench.rs): a synthetic school of STUDENTS
# (default 2400, gen_school.py, imported), three marked evaluations per
# class service, then TEACHERS (default 200) concurrent teachers, each on
# his own HTTPS connection with his own session, saving marks for SECONDS
# (default 20) in an open loop: one save every PAUSE_MS (default 150:
# 200 teachers then offer 1,333 saves/s, above the 1,000/s goal, which a
# 200 ms pause could only just reach) per teacher, one in ten a whole
# grid (every student of the class), the others one cell. Every answer is checked; afterwards the history rows
# and stored values are compared with what was sent (lost_writes). Then
# every average of the school for the period recomputed (median of 3) and
# the report cards of the largest class rendered over HTTPS (median of 5).
# Prints one JSON line (latencies client side, in milliseconds).
#
# usage: bench/grades.sh [STUDENTS] [TEACHERS] [SECONDS] [PAUSE_MS]
#   PROFILE=dev  build profile (default release)
set -eu
cd "$(dirname "$0")/.."
PREAU_BENCH_STUDENTS=${1:-2400} PREAU_BENCH_SESSIONS=${2:-200}
PREAU_BENCH_SECONDS=${3:-20} PREAU_BENCH_PAUSE_MS=${4:-150}
export PREAU_BENCH_STUDENTS PREAU_BENCH_SESSIONS PREAU_BENCH_SECONDS PREAU_BENCH_PAUSE_MS
if [ "${PROFILE:-release}" = release ]; then set -- --release; else set --; fi
cargo test "$@" --test grades_bench -- --exact grades_benchmark --nocapture 2>&1 \
  | grep -E '^\{"students"|test result|panicked'

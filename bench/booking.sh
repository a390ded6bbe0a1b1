#!/bin/sh
# Booking benchmark: 200 concurrent requests (200 threads, each with its
# own SQLite connection, released together) for all the units of one
# resource over one slot: exactly one must succeed, the others get a
# conflict, and a query counts the confirmed bookings of the slot. Then the
# weekly usage statistics (CSV included) over a school year of 43,200
# bookings of 30 resources: median of 5.
#
# usage: bench/booking.sh        PROFILE=dev for the dev profile (default release)
set -eu
cd "$(dirname "$0")/.."
if [ "${PROFILE:-release}" = release ]; then set -- --release; else set --; fi
cargo test "$@" --lib -- --exact booking::tests::booking_benchmark --nocapture 2>&1 \
  | grep -E '^\{"concurrent|test result'

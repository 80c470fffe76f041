#!/usr/bin/env bash
# Runs every benchmark given on the command line. Each prints its figures as
# JSON objects, one per line, prefixed "BENCH "; this script collects them.
set -u
rc=0
for b in "$@"; do
	printf '=== %s\n' "$b" >&2
	"$b" || { echo "bench failed: $b" >&2; rc=1; }
done
exit $rc

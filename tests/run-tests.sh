#!/usr/bin/env bash
# Runs every test program given on the command line. Exit status 77 means
# "skipped" (automake convention); a skipping test must say why on stderr.
# Ends with the plain summary line "tests: N passed, N failed, N skipped".
set -u
pass=0 fail=0 skip=0 failed=()
for t in "$@"; do
	printf '=== %s\n' "$t"
	"$t"
	rc=$?
	case $rc in
	0) pass=$((pass + 1)) ;;
	77) skip=$((skip + 1)); printf '*** SKIPPED: %s\n' "$t" ;;
	*) fail=$((fail + 1)); failed+=("$t (exit $rc)") ;;
	esac
done
for f in "${failed[@]}"; do printf '*** FAILED: %s\n' "$f"; done
printf 'tests: %d passed, %d failed, %d skipped\n' "$pass" "$fail" "$skip"
[ "$fail" -eq 0 ]

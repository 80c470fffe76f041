#!/usr/bin/env bash
# Runs every test program given on the command line. Exit status 77 means
# "skipped" (automake convention); a skipping test must say why on stderr.
# Ends with the plain summary line "tests: N passed, N failed, N skipped".
# KP_TEST_LIMIT=S: a program still running after S seconds is stopped
# (SIGTERM, SIGKILL 10 s later) and fails.
set -u
pass=0 fail=0 skip=0 failed=()
limit=()
[ -n "${KP_TEST_LIMIT:-}" ] && limit=(timeout -k 10 "$KP_TEST_LIMIT")
for t in "$@"; do
	printf '=== %s\n' "$t"
	"${limit[@]}" "$t"
	rc=$?
	[ "$rc" -eq 124 ] && [ ${#limit[@]} -gt 0 ] &&
		printf '*** TIMEOUT: %s after %s s\n' "$t" "$KP_TEST_LIMIT" && rc=1
	case $rc in
	0) pass=$((pass + 1)) ;;
	77) skip=$((skip + 1)); printf '*** SKIPPED: %s\n' "$t" ;;
	*) fail=$((fail + 1)); failed+=("$t (exit $rc)") ;;
	esac
done
for f in "${failed[@]}"; do printf '*** FAILED: %s\n' "$f"; done
printf 'tests: %d passed, %d failed, %d skipped\n' "$pass" "$fail" "$skip"
[ "$fail" -eq 0 ]

#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# `make format-check [FORMAT_BASE=REV]`: the user-space C lines changed
# since REV (default: where this branch left origin/main or main) are as
# clang-format (.clang-format, kernel style) writes them.  bpf/ and
# kernel-patches/ are left out.  Differences only in the white space
# before a trailing comment are accepted: kernel style aligns those
# comments on tab stops, which clang-format cannot.  Exit 1 with the
# differences (or when git or clang-format is missing: scripts/deps.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

cf=$(command -v clang-format || command -v clang-format-14 || true)
if [[ -z $cf ]] || ! git rev-parse --git-dir >/dev/null 2>&1 ||
   ! command -v git-clang-format >/dev/null; then
	echo "format-check: needs a git checkout, clang-format and" \
	     "git-clang-format (scripts/deps.sh)" >&2
	exit 1
fi
base=${1:-}
if [[ -z $base ]]; then
	for b in origin/main main; do
		base=$(git merge-base HEAD "$b" 2>/dev/null) && break
	done
fi
[[ -n $base ]] || base=HEAD
mapfile -t files < <(git diff --name-only --diff-filter=AMR "$base" -- \
	'*.c' '*.h' | grep -vE '^(bpf|kernel-patches)/' || true)
if ((${#files[@]} == 0)); then
	echo "format-check: no C changed since ${base:0:12}"
	exit 0
fi
out=$(git clang-format --binary "$cf" --diff --extensions c,h "$base" -- \
	"${files[@]}" 2>&1 || true)
python3 - "$out" "${base:0:12}" <<'PY'
import re, sys

def norm(line):
    return re.sub(r'[ \t]+(/\*)', r' \1', line[1:])

bad, hunk, cur = [], [], None
for line in sys.argv[1].splitlines() + ['@@ end']:
    if line.startswith('diff --git') or line.startswith('@@'):
        if hunk:
            minus = [norm(l) for l in hunk if l.startswith('-')]
            plus = [norm(l) for l in hunk if l.startswith('+')]
            if minus != plus:
                bad.append(cur + '\n' + '\n'.join(hunk))
        hunk = []
        if line.startswith('diff --git'):
            cur = line
        else:
            cur = (cur or '').split('\n')[0] + '\n' + line
    elif line.startswith(('-', '+')) and not line.startswith(('---', '+++')):
        hunk.append(line)
    elif line.startswith(' '):
        hunk.append(line)
if bad:
    print('\n'.join(bad))
    print('format-check: %d hunk(s) differ from clang-format; '
          '`git clang-format %s` fixes them' % (len(bad), sys.argv[2]))
    sys.exit(1)
print('format-check: ok')
PY

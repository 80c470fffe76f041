#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# make -C kernel-patches rebase VERSION=<linux-source-6.12 package version>
#
# Moves the series to another version of Debian's linux-source-6.12:
#   1. fetches that version into the cache (fetch_base);
#   2. in a worktree of the base repository ($CACHE/linux-rebase), commits
#      its tree on top of the current base, so that the current base's
#      blobs are there for three-way merges, and applies the series with
#      `git am -3`;
#   3. gives the branch the cover letter's subject and body as its
#      description and re-exports the series with export-series.sh;
#   4. records the version in base-version.
# If a patch does not apply, it stops in the worktree with the conflict:
# resolve it there, `git am --continue` (until the series is applied), then
# run `make -C kernel-patches rebase VERSION=... CONTINUE=1`. Afterwards,
# run check, qemu-test and kunit on the new base.
. "$(dirname "$0")/lib.sh"

NEW=${1:-}
# Not to the kernel's make: its VERSION is not ours.
unset MAKEFLAGS MAKEOVERRIDES MFLAGS
[ -n "$NEW" ] || die "usage: make -C kernel-patches rebase VERSION=<package version> (apt-cache madison linux-source-6.12)"
WT=$CACHE/linux-rebase
COVER=$KP_DIR/0000-cover-letter.patch

if [ "${KP_REBASE_CONTINUE:-}" != 1 ]; then
	fetch_base "$NEW"
	prepare_base
	git -C "$SRC" worktree prune
	rm -rf "$WT"
	git -C "$SRC" worktree add -q -f --detach "$WT" base
	log "committing linux-source-6.12=$NEW on top of the base in $WT"
	(
		cd "$WT"
		git rm -q -r -f --cached . >/dev/null
		find . -mindepth 1 -maxdepth 1 ! -name .git -exec rm -rf {} +
		tar -xf "$(base_tarball "$NEW")" --strip-components=1
		git add -f -A .
		git commit -q -m "Debian linux-source-6.12 $NEW"
		version=$(make -s --no-print-directory kernelversion)
		[ "$version" = "${NEW%%-*}" ] ||
			die "linux-source-6.12=$NEW is Linux $version"
		git branch -f rebase-base HEAD
		git checkout -q -B kvmprof-rebase
	)
fi

[ -d "$WT" ] || die "no rebase in progress ($WT)"
[ ! -d "$(git -C "$WT" rev-parse --git-path rebase-apply)" ] ||
	die "git am is still in progress in $WT"
# The patches not applied yet (all of them, or those after a resolved one)
i=0
done_n=$(git -C "$WT" rev-list --count rebase-base..HEAD)
for p in $(series_patches); do
	case $(basename "$p") in 0000-*) continue ;; esac
	i=$((i + 1))
	[ "$i" -le "$done_n" ] && continue
	git -C "$WT" am -q -3 --whitespace=error "$p" || {
		log "$(basename "$p") does not apply on $NEW: resolve in $WT, 'git am --continue',"
		die "then: make -C kernel-patches rebase VERSION=$NEW CONTINUE=1"
	}
done
n=$(git -C "$WT" rev-list --count rebase-base..kvmprof-rebase)
want=$(series_patches | grep -vc '/0000-' || true)
[ "$n" = "$want" ] || die "$WT has $n commits on the new base, the series $want"

# The branch description: the cover letter's subject (without the
# "[PATCH 00/NN] " prefix, unfolded) and its body up to the shortlog.
desc=$(python3 - "$COVER" <<'PY'
import email, re, sys
msg = email.message_from_binary_file(open(sys.argv[1], "rb"))
subj = re.sub(r"\s+", " ", re.sub(r"^\[PATCH[^\]]*\]\s*", "", str(msg["Subject"])))
body = msg.get_payload(decode=True).decode()
lines = []
for line in body.split("\n"):
    if re.match(r"^\S.* \(\d+\):$", line):
        break
    lines.append(line)
print(subj + "\n\n" + "\n".join(lines).strip())
PY
)
git -C "$WT" config branch.kvmprof-rebase.description "$desc"
# The cover letter is sent by whoever sent the last one
from=$(sed -n 's/^From: //p' "$COVER" | head -1)
GIT_COMMITTER_NAME=${from% <*} GIT_COMMITTER_EMAIL=$(echo "$from" | sed 's/.*<\(.*\)>.*/\1/') \
	"$KP_DIR/scripts/export-series.sh" "$WT" rebase-base kvmprof-rebase >/dev/null
{
	sed -n '/^#/p' "$KP_DIR/base-version"
	echo "$NEW"
} >"$KP_DIR/base-version.tmp"
mv "$KP_DIR/base-version.tmp" "$KP_DIR/base-version"
log "series re-exported on linux-source-6.12=$NEW (base-version updated):"
log "now run: make -C kernel-patches check qemu-test kunit"

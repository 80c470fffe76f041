#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# make -C kernel-patches rebase VERSION=<linux-source-6.12 package version>
#
# Moves the three series (kernel-patches/series) to another version of
# Debian's linux-source-6.12:
#   1. fetches that version into the cache (fetch_base);
#   2. in a worktree of the base repository ($CACHE/linux-rebase), commits
#      its tree on top of the current base (branch rebase-base), so that the
#      current base's blobs are there for three-way merges;
#   3. applies each series ALONE with `git am -3` on its own branch
#      kvmprof-rebase-<name> from rebase-base, in the order of the series
#      file;
#   4. gives each branch its cover letter's subject and body as its
#      description and re-exports each series with export-series.sh;
#   5. checks that the re-exported series still apply together, in order,
#      with `git am -3` (branch kvmprof-rebase-all);
#   6. records the version in base-version.
# If a patch does not apply, it stops in the worktree with the conflict, on
# that series' branch: resolve it there, `git am --continue` (until the
# series is applied), then run
# `make -C kernel-patches rebase VERSION=... CONTINUE=1`, which goes on with
# that series and the next ones. If the series apply alone but not
# together, it says which patch of the combination fails; the series have
# to be adapted in the kernel tree (what two series add to one file must sit
# at anchors separated by at least one unchanged line). Afterwards, run
# check, qemu-test and kunit on the new base.
. "$(dirname "$0")/lib.sh"

NEW=${1:-}
# Not to the kernel's make: its VERSION is not ours.
unset MAKEFLAGS MAKEOVERRIDES MFLAGS
[ -n "$NEW" ] || die "usage: make -C kernel-patches rebase VERSION=<package version> (apt-cache madison linux-source-6.12)"
WT=$CACHE/linux-rebase
mapfile -t NAMES < <(series_names)

if [ "${KP_REBASE_CONTINUE:-}" != 1 ]; then
	fetch_base "$NEW"
	prepare_base
	git -C "$SRC" worktree prune
	rm -rf "$WT"
	git -C "$SRC" worktree add -q -f --detach "$WT" base
	git -C "$SRC" for-each-ref --format='%(refname:short)' 'refs/heads/kvmprof-rebase*' |
		xargs -r git -C "$SRC" branch -q -D
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
	)
fi

[ -d "$WT" ] || die "no rebase in progress ($WT)"
[ ! -d "$(git -C "$WT" rev-parse --git-path rebase-apply)" ] ||
	die "git am is still in progress in $WT"

# Each series alone on the new base, on its own branch; on CONTINUE=1, a
# branch that exists already keeps its commits and gets the patches after
# them.
for name in "${NAMES[@]}"; do
	br=kvmprof-rebase-$name
	if git -C "$WT" rev-parse -q --verify "refs/heads/$br" >/dev/null; then
		git -C "$WT" checkout -q "$br"
	else
		git -C "$WT" checkout -q -b "$br" rebase-base
	fi
	i=0
	done_n=$(git -C "$WT" rev-list --count rebase-base..HEAD)
	for p in $(series_patches "$name"); do
		i=$((i + 1))
		[ "$i" -le "$done_n" ] && continue
		git -C "$WT" am -q -3 --whitespace=error "$p" || {
			log "$name/$(basename "$p") does not apply on $NEW: resolve in $WT (branch $br),"
			log "'git am --continue' until $name is applied,"
			die "then: make -C kernel-patches rebase VERSION=$NEW CONTINUE=1"
		}
	done
	n=$(git -C "$WT" rev-list --count "rebase-base..$br")
	want=$(series_patches "$name" | wc -l)
	[ "$n" = "$want" ] || die "$br has $n commits on the new base, the series $name $want"
	log "$name: $n patches applied alone on $NEW"
done

# Re-export each series. The branch description: the cover letter's subject
# (without the "[PATCH 00/NN] " prefix, unfolded) and its body up to the
# shortlog.
for name in "${NAMES[@]}"; do
	br=kvmprof-rebase-$name
	cover=$KP_DIR/$name/0000-cover-letter.patch
	desc=$(python3 - "$cover" <<'PY'
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
	git -C "$WT" config "branch.$br.description" "$desc"
	# The cover letter is sent by whoever sent the last one
	from=$(sed -n 's/^From: //p' "$cover" | head -1)
	GIT_COMMITTER_NAME=${from% <*} GIT_COMMITTER_EMAIL=$(echo "$from" | sed 's/.*<\(.*\)>.*/\1/') \
		"$KP_DIR/scripts/export-series.sh" "$WT" rebase-base "$br" "$name" >/dev/null
done

# The re-exported series together, in order
git -C "$WT" checkout -q -B kvmprof-rebase-all rebase-base
for p in $(series_patches); do
	git -C "$WT" am -q -3 --whitespace=error "$p" || {
		git -C "$WT" am --abort >/dev/null 2>&1 || true
		die "the series apply alone on $NEW but not together: $(basename "$(dirname "$p")")/$(basename "$p") fails after the ones before it (re-exported files are in kernel-patches/; base-version unchanged)"
	}
done

{
	sed -n '/^#/p' "$KP_DIR/base-version"
	echo "$NEW"
} >"$KP_DIR/base-version.tmp"
mv "$KP_DIR/base-version.tmp" "$KP_DIR/base-version"
log "series ${NAMES[*]} re-exported on linux-source-6.12=$NEW, and they apply together (base-version updated):"
log "now run: make -C kernel-patches check qemu-test kunit"

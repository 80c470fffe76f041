#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Writes what is generated from kvmprofd's configuration keys
# (daemon/config_keys.c) and options (daemon/options.c): dist/kvmprofd.conf,
# the KEYS entries of docs/man/kvmprofd.conf.5, the OPTIONS entries of
# docs/man/kvmprofd.8 and the option lists of dist/bash-completion/kvmprofd
# (each between its "Generated" and "End of the generated" lines).  `make update-docs` runs it;
# with --check it changes nothing and fails if a committed file is stale
# (tests/service/check-docs.sh).
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
O=${O:-build}
[[ $O = /* ]] || O=$here/$O
KVMPROFD=$O/kvmprofd
check=0
[[ ${1:-} = --check ]] && check=1
[[ -x $KVMPROFD ]] || { echo "update-docs: $KVMPROFD not built" >&2; exit 1; }

conf=$here/dist/kvmprofd.conf
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# splice <file> <generated> <output>: <file> with the lines between (and
# including) the first and last lines of <generated> replaced by it
splice() {
	local file=$1 gen=$2 begin end
	begin=$(head -n1 "$gen")
	end=$(tail -n1 "$gen")
	[[ $(grep -cxF -- "$begin" "$file") = 1 && $(grep -cxF -- "$end" "$file") = 1 ]] || {
		echo "update-docs: $file: the marker lines of the generated part are missing" >&2
		exit 1
	}
	B=$begin E=$end G=$gen awk '
		BEGIN { b = ENVIRON["B"]; e = ENVIRON["E"]; g = ENVIRON["G"] }
		$0 == b { while ((getline l < g) > 0) print l; skip = 1; next }
		$0 == e { skip = 0; next }
		!skip' "$file" >"$3"
}

"$KVMPROFD" --print-config=default-file >"$tmp/conf"
"$KVMPROFD" --print-config=man-keys >"$tmp/keys"
"$KVMPROFD" --print-config=man-options >"$tmp/options"
"$KVMPROFD" --print-config=completion >"$tmp/comp"
splice "$here/docs/man/kvmprofd.conf.5" "$tmp/keys" "$tmp/man5"
splice "$here/docs/man/kvmprofd.8" "$tmp/options" "$tmp/man8"
splice "$here/dist/bash-completion/kvmprofd" "$tmp/comp" "$tmp/completion"

stale=0
for pair in "conf:$conf" "man5:$here/docs/man/kvmprofd.conf.5" \
	"man8:$here/docs/man/kvmprofd.8" "completion:$here/dist/bash-completion/kvmprofd"; do
	gen=$tmp/${pair%%:*} file=${pair#*:}
	if cmp -s "$gen" "$file"; then
		continue
	fi
	if ((check)); then
		echo "update-docs: ${file#"$here"/} is stale (run make update-docs):" >&2
		diff -u "$file" "$gen" | sed 's/^/    /' >&2 || true
		stale=1
	else
		cp "$gen" "$file"
		echo "  updated  ${file#"$here"/}"
	fi
done
if ((check)); then
	((stale)) && exit 1
	echo "ok: dist/kvmprofd.conf, kvmprofd.conf(5) KEYS, kvmprofd(8) OPTIONS and the completion's option lists are as generated"
fi
exit 0

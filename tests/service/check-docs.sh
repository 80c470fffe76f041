#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Help text, man pages and bash completion list the same commands and
# options; the configuration keys and defaults are the same in the daemon
# (--print-config), kvmprofd.conf(5) and the shipped dist/kvmprofd.conf,
# and the latter two are what `make update-docs` generates.
set -u
here=$(cd "$(dirname "$0")/../.." && pwd)
O=${O:-build}
[[ $O = /* ]] || O=$here/$O
KVMPROFD=$O/kvmprofd
KVMPROF=$O/kvmprof
MAN=$here/docs/man
COMP=$here/dist/bash-completion
fail=0

for b in "$KVMPROFD" "$KVMPROF"; do
	[[ -x $b ]] || { echo "check-docs: $b not built" >&2; exit 1; }
done
command -v groff >/dev/null || { echo "check-docs: SKIP: groff missing (groff-base)" >&2; exit 77; }

# man page as plain text, no wrapping
render() {
	groff -t -man -Tascii -P-cbou -rLL=300n -rHY=0 "$1" 2>/dev/null
}

# options of an option list: "  -c, --config FILE   text" -> -c --config
opts_of_lines() {
	sed -E 's/^ +//; s/ {2,}.*$//' | grep -oE '(^|[ ,[])(-[a-zA-Z]|--[a-z][a-z0-9-]*)' |
		sed -E 's/^[ ,[]//' | sort -u
}

# section of rendered man text, e.g. OPTIONS
section() {
	awk -v s="$1" '/^[A-Z][A-Z ]*$/ { on = ($0 == s); next } on' 
}

compare() { # what, list a (name), list b (name)
	local what=$1 an=$2 a=$3 bn=$4 b=$5
	if [[ "$a" != "$b" ]]; then
		echo "check-docs: $what differ between $an and $bn:" >&2
		diff <(echo "$a") <(echo "$b") | sed 's/^/    /' >&2
		fail=1
	else
		echo "ok: $what: $an = $bn ($(echo "$a" | wc -w))"
	fi
}

# completion candidates for a command line ("" = the word being completed)
complete_words() { # file function words...
	local file=$1 fn=$2
	shift 2
	bash -c '
		source "$1"; fn=$2; shift 2
		COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
		COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
		$fn; printf "%s\n" "${COMPREPLY[@]}"' _ "$file" "$fn" "$@" |
		grep -v '^$' | sort -u
}

export KVMPROF_SOCKET=/nonexistent/kvmprof.sock

# --- kvmprofd options -------------------------------------------------------
help_d=$("$KVMPROFD" --help | grep -E '^ +-' | opts_of_lines)
man_d=$(render "$MAN/kvmprofd.8" | section OPTIONS | grep -E '^ {7}-' | opts_of_lines)
comp_d=$(complete_words "$COMP/kvmprofd" _kvmprofd "$KVMPROFD" -)
compare "kvmprofd options" "--help" "$help_d" "kvmprofd.8" "$man_d"
compare "kvmprofd options" "--help" "$help_d" "completion" "$comp_d"

# --- kvmprof options and commands ------------------------------------------
help_p=$("$KVMPROF" --help)
man_p=$(render "$MAN/kvmprof.1")
gopt_help=$(echo "$help_p" | sed -n '/^Options/,/^Commands/p' | grep -E '^ +-' | opts_of_lines)
gopt_man=$(echo "$man_p" | section OPTIONS | grep -E '^ {7}-' | opts_of_lines)
gopt_comp=$(complete_words "$COMP/kvmprof" _kvmprof "$KVMPROF" -)
compare "kvmprof options" "--help" "$gopt_help" "kvmprof.1" "$gopt_man"
compare "kvmprof options" "--help" "$gopt_help" "completion" "$gopt_comp"

# command lines: "kvmprof CMD [SUB] ARGS" at the start of a line; SUB is a
# lowercase word right after CMD ("kvmprof spe dump FILE ...")
cmdlines_help=$(echo "$help_p" | grep -E '^ +kvmprof [a-z]' | sed -E 's/^ +//')
cmdlines_man=$(echo "$man_p" | section COMMANDS | grep -E '^ {7}kvmprof [a-z]' | sed -E 's/^ +//')
cmds() { awk '{ print $2 }' | sort -u; }
keys() { awk '{ k = $2; if ($3 ~ /^[a-z]+$/) k = k " " $3; print k }' | sort -u; }
optsin() { grep -oE '(^|[ [|])(-[a-zA-Z]|--[a-z][a-z0-9-]*)' | sed -E 's/^[ [|]//' | sort -u; }
compare "kvmprof commands" "--help" "$(echo "$cmdlines_help" | cmds)" \
	"kvmprof.1" "$(echo "$cmdlines_man" | cmds)"
compare "kvmprof commands" "--help" "$(echo "$cmdlines_help" | cmds)" \
	"completion" "$(complete_words "$COMP/kvmprof" _kvmprof "$KVMPROF" "")"
compare "kvmprof command lines" "--help" "$(echo "$cmdlines_help" | keys)" \
	"kvmprof.1" "$(echo "$cmdlines_man" | keys)"
# per command line: its options
while read -r key; do
	[[ -n $key ]] || continue
	args_of() { awk -v k="$key" '{ kk = $2; if ($3 ~ /^[a-z]+$/) kk = kk " " $3 }
		kk == k { $1 = ""; $2 = ""; if (k ~ / /) $3 = ""; print }'; }
	o_help=$(echo "$cmdlines_help" | args_of | optsin)
	o_man=$(echo "$cmdlines_man" | args_of | optsin)
	compare "kvmprof $key options" "--help" "$o_help" "kvmprof.1" "$o_man"
	if [[ -n $o_help ]]; then
		# global options are offered everywhere: compare the rest
		o_comp=$(complete_words "$COMP/kvmprof" _kvmprof "$KVMPROF" $key - |
			grep -vxF -f <(echo "$gopt_help"))
		compare "kvmprof $key options" "--help" \
			"$(echo "$o_help" | grep -vxF -f <(echo "$gopt_help"))" \
			"completion" "$o_comp"
	fi
done <<<"$(echo "$cmdlines_help" | keys)"
# subcommands: a|b|c alternatives, or "kvmprof CMD sub" lines
for c in $(echo "$cmdlines_help" | cmds); do
	subs() { awk -v c="$c" '$2 == c { $1 = ""; $2 = ""; print }' |
		grep -oE '(^| )[a-z]+(\|[a-z]+)+|^ *[a-z]+' | tr '|' '\n' |
		tr -d ' ' | grep -v '^$' | sort -u; }
	s_help=$(echo "$cmdlines_help" | subs)
	s_man=$(echo "$cmdlines_man" | subs)
	compare "kvmprof $c subcommands" "--help" "$s_help" "kvmprof.1" "$s_man"
	if [[ -n $s_help ]]; then
		s_comp=$(complete_words "$COMP/kvmprof" _kvmprof "$KVMPROF" "$c" "")
		compare "kvmprof $c subcommands" "--help" "$s_help" "completion" "$s_comp"
	fi
done

# --- configuration keys and defaults ---------------------------------------
# dist/kvmprofd.conf and the man page's KEYS are generated from the keys
# (make update-docs): the committed ones must be what the daemon writes
O=$O "$here/scripts/update-docs.sh" --check || fail=1
empty=$(mktemp)
trap 'rm -f "$empty"' EXIT
norm() { sed -E 's/^#//; s/ *= */ = /; s/ +$//'; }
daemon_conf=$("$KVMPROFD" --config "$empty" --print-config | norm | sort)
dist_conf=$(grep -E '^#?[a-z][a-z0-9-]* *=' "$here/dist/kvmprofd.conf" | norm | sort)
compare "configuration defaults" "kvmprofd --print-config" "$daemon_conf" \
	"dist/kvmprofd.conf" "$dist_conf"
# kvmprofd.conf(5): "key = VALUE" tags, then "Default: X."
man_conf=$(render "$MAN/kvmprofd.conf.5" | section KEYS | awk '
	/^       [a-z][a-z0-9-]* = / { key = $1; next }
	key && /Default: / {
		d = $0; sub(/.*Default: /, "", d); sub(/\.$/, "", d)
		if (d == "none" || d == "empty") d = ""
		print key " = " d; key = "" }' | sed -E 's/ +$//' | sort)
compare "configuration defaults" "kvmprofd --print-config" "$daemon_conf" \
	"kvmprofd.conf.5" "$man_conf"
# each key is an option of the same name (booleans: --no-KEY, verbose: -v)
keys=$(echo "$daemon_conf" | awk '{ print $1 }' | sort)
key_opts=$(echo "$help_d" | grep -E '^--' | sed 's/^--//' |
	grep -vxE 'config|print-config|help|version|load-unavailable' |
	sed -E 's/^no-(drop-privileges|count-cache|bpf|kvm-stats|kvm-stats-metrics)$/\1/' | sed 's/^verbose$/verbose/' | sort)
compare "configuration keys" "kvmprofd.conf" "$keys" "kvmprofd options" "$key_opts"

if ((fail)); then
	echo "check-docs: FAILED" >&2
	exit 1
fi
echo "check-docs: help, man pages, completion and configuration agree"

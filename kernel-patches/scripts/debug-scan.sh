# SPDX-License-Identifier: GPL-2.0-only
# The checks of qemu-test's debug boot (config/debug.config). Sourced by
# qemu-test.sh, not run. Each check prints one line, "PASS debug <check>" or
# "FAIL debug <check>", and counts failures in FAILS.

debug_result() {
	if [ "$2" = ok ]; then
		echo "PASS debug $1"
	else
		echo "FAIL debug $1"
		FAILS=$((FAILS + 1))
	fi
}

# What the debug Image can report, one kind a line:
#   <kind>|<sources>|<regex>
# <regex> matches the first line of such a report (without the printk
# timestamp); <sources> are the files of the tree that print them (or "-"),
# from which debug_selfcheck takes every first line they can print.
# lockdep's reports start with "WARNING: <what it found>" or "BUG: ...",
# WARN()'s with "WARNING: CPU: <n> PID: <pid> at <place>".
DEBUG_REPORTS='lockdep report|kernel/locking/lockdep.c|^(WARNING: (possible|inconsistent|bad |held lock|lock held|suspicious RCU|Nested lock|chain_key|.*-safe -> .*-unsafe|.* still has locks held)|\[ BUG: |INFO: (trying to register non-static key|lockdep is turned off)|BUG: (MAX_|key .* not been registered|looking up invalid subclass))|DEBUG_LOCKS_WARN_ON
sleeping function called from invalid context|kernel/sched/core.c|^BUG: (sleeping function called from invalid context|scheduling |assuming |workqueue leaked)|Voluntary context switch within RCU
KASAN report|mm/kasan/report.c|^BUG: KASAN|^KASAN: 
list corruption|lib/list_debug.c|list_(add|del) corruption|list_add double add
WARN|kernel/panic.c|^WARNING: CPU: |-+\[ cut here \]-+
oops, BUG, panic or other stack dump|-|^BUG: |Internal error|Unable to handle kernel|kernel BUG at|Kernel panic|HYP panic|Call trace:'

# debug_selfcheck <source tree>: every first line of a report that the
# tree's sources of each kind can print is recognised as that kind, so that
# a base that words its reports differently cannot make the scan blind.
debug_selfcheck() {
	local src=$1 what files re f lines line n=0 missed=0
	while IFS='|' read -r what files re; do
		[ "$files" != - ] || continue
		for f in $files; do
			[ -f "$src/$f" ] || die "debug_selfcheck: $f missing from $src"
			lines=$(grep -Eho '"((WARNING|BUG|INFO): |\[ BUG: |list_(add|del) corruption|-+\[ cut here)[^"\\]*' "$src/$f" | tr -d '"')
			[ -n "$lines" ] || die "debug_selfcheck: no report line found in $f"
			while read -r line; do
				n=$((n + 1))
				grep -Eq "$re" <<<"$line" && continue
				log "debug_selfcheck: \"$line\" ($f) is not recognised as a $what"
				missed=$((missed + 1))
			done <<<"$lines"
		done
	done <<<"$DEBUG_REPORTS"
	debug_result "scan recognises the $n report first lines of this tree's lockdep, might_sleep(), KASAN, list debugging and WARN()" \
		"$([ "$missed" = 0 ] && echo ok)"
}

# check_debug <boot> <serial log> <.config of the debug Image>: the detectors were
# armed, in L1 and in the L2 guest (which boots the same Image): KASAN
# initialised, lockdep still on after everything ("debug_locks 1": lockdep
# turns it off at its first report or when its tables overflow) with lock
# classes seen; and no report of any kind, in either console.
check_debug() {
	local boot=$1 log=$2 config=$3 sym c what files re level text found
	local -A con
	for sym in PROVE_LOCKING DEBUG_ATOMIC_SLEEP DEBUG_LIST KASAN KASAN_GENERIC; do
		grep -qx "CONFIG_$sym=y" "$config" && c=ok || c=no
		debug_result "$boot: config CONFIG_$sym=y" "$c"
	done
	# the two consoles, without printk timestamps
	con[l1]=$(tr -d '\r' <"$log" | grep -v '^l2: ' | sed 's/^\[ *[0-9.]*\] //')
	con[l2]=$(tr -d '\r' <"$log" | sed -n 's/^l2: //p' | sed 's/^\[ *[0-9.]*\] //')
	for level in l1 l2; do
		text=${con[$level]}
		grep -q '^kasan: KernelAddressSanitizer initialized (generic)' <<<"$text" && c=ok || c=no
		debug_result "$boot: $level KASAN initialised" "$c"
		c=$(sed -n 's/^KP: lockdep debug_locks //p' <<<"$text" | tail -1)
		debug_result "$boot: $level lockdep still armed at the end (debug_locks ${c:-missing})" \
			"$([ "$c" = 1 ] && echo ok)"
		c=$(sed -n 's/^KP: lockdep lock-classes //p' <<<"$text" | tail -1)
		debug_result "$boot: $level lockdep saw ${c:-no} lock classes" \
			"$([ "${c:-0}" -gt 0 ] && echo ok)"
	done
	while IFS='|' read -r what files re; do
		for level in l1 l2; do
			found=$(grep -E -A12 "$re" <<<"${con[$level]}" | head -60 || true)
			if [ -z "$found" ]; then
				debug_result "$boot: $level no $what" ok
			else
				printf '%s\n' "$found" | sed "s/^/    $level: /" >&2
				debug_result "$boot: $level no $what (above; log: $log)" no
			fi
		done
	done <<<"$DEBUG_REPORTS"
}

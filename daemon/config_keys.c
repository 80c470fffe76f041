// SPDX-License-Identifier: GPL-2.0-only
/*
 * kvmprofd's configuration keys: the one table behind the file parser,
 * the command line, --help, SIGHUP reloads, --print-config, and the
 * generated dist/kvmprofd.conf and kvmprofd.conf(5) KEYS (`make
 * update-docs`, config_doc.c).  Markup in doc: *bold*, <italic>.
 */
#include <kvmprof/client.h>
#include <kvmprof/util.h>
#include "config.h"

#define D(f) false, offsetof(struct daemon_opts, f)
#define S(f) true, offsetof(struct service_opts, f)

/*
 * Every key: its type, where it goes, its range, whether SIGHUP applies
 * it, its default (as written in the file), how the command line and
 * --help show it (options.c builds getopt's table and usage() from this),
 * and its paragraph in the documentation.
 */
/* clang-format off */
const struct config_key config_key_table[] = {
	{ "socket", K_PATH, D(socket_path), 0, 0, false, KP_DEFAULT_SOCKET,
	  's', "PATH", NULL, "API socket",
	  "API socket (HTTP/JSON for *kvmprof*(1))." },
	{ "socket-mode", K_MODE, D(socket_mode), 0, 0, false, "0660",
	  0, "MODE", NULL, "socket permissions, octal",
	  "Permissions of the socket, octal; bits for others are refused." },
	{ "socket-group", K_STR, D(socket_group), 0, 0, false, "kvmprof",
	  0, "NAME", NULL, "socket group when it exists",
	  "Group of the socket when that group exists (empty: leave it)." },
	{ "metrics-listen", K_LISTEN, S(metrics_listen), 0, 0, true,
	  CONFIG_DEFAULT_METRICS, 0, "ADDR", NULL,
	  "Prometheus /metrics on IPV4:PORT, [IPV6]:PORT or off",
	  "Prometheus metrics (GET or HEAD /metrics) on <IPV4>:<PORT>, "
	  "[<IPV6>]:<PORT> (literal addresses; port 0: any free port) or "
	  "*off*. Port 19418 is outside Prometheus' default port allocations. "
	  "Bind to an address other than the loopback only behind a firewall "
	  "(and the unit's IPAddressAllow=): the metrics name the VMs. A port "
	  "below 1024 works at start only; a reload rebinds only to an address "
	  "that does not overlap the running one." },
	{ "metrics-max-kib", K_U32, S(metrics_max_kib), 64, 1u << 20, true,
	  "32768", 0, "N", NULL, "largest /metrics response",
	  "Largest /metrics response in KiB, 64 to 1048576; a larger one is "
	  "refused with status 500." },
	{ "api-max-connections", K_U32, D(api_max_conns), 8, 65536, false,
	  "1024", 0, "N", NULL, "API connections open at most",
	  "API connections open at most, 8 to 65536 (each holds at most "
	  "32 KiB); further clients wait in the socket's backlog." },
	{ "api-max-connections-per-uid", K_U32, D(api_max_conns_per_uid), 1,
	  65536, false, "64", 0, "N", NULL,
	  "of which one client user id holds at most (more get 503)",
	  "Of those, what one client user id (the peer's uid, SO_PEERCRED) "
	  "holds at most, 1 to 65536; each request on a further connection of "
	  "that user is answered 503 with a JSON error, so idle connections of "
	  "one user never lock out the others." },
	{ "api-idle-timeout-s", K_U32, D(api_idle_timeout_s), 1, 3600, false,
	  "2", 0, "N", NULL,
	  "close an API connection idle, or whose request is not whole, this "
	  "long",
	  "An API connection that sends nothing (no request, or no more of "
	  "one) for this long is closed, 1 to 3600 s; so is one whose request "
	  "has not arrived whole this long after the connection opened or its "
	  "last answer (a client sending a byte at a time)." },
	{ "interval-ms", K_U32, D(interval_ms), 10, 3600000, true, "1000",
	  'i', "N", NULL, "harvest period",
	  "Harvest period of the BPF counters, 10 to 3600000 ms." },
	{ "grace-ms", K_U64, D(grace_ms), 0, 86400000, true, "30000",
	  'g', "N", NULL, "keep exited VMs this long",
	  "How long a VM whose VMM exited stays, with its final counts, in the "
	  "API and the metrics, 0 to 86400000 ms." },
	{ "max-vms", K_U32, D(max_vms), 1, 65536, true, "4096",
	  0, "N", NULL, "VMs tracked at most",
	  "VMs tracked at most, 1 to 65536; further VMs are counted as not "
	  "tracked. Bounds the daemon's memory with *max-counters*; the "
	  "defaults track a host of 4096 VMs (make bench: vms_scale). A reload "
	  "applies to VMs seen later." },
	{ "max-counters", K_U32, D(max_counters), 16, 1u << 24, false, "262144",
	  0, "N", NULL, "BPF counter entries",
	  "Entries of the BPF counter map, 16 to 16777216; events for a new "
	  "key of a full map are counted as lost. A VM takes about 24 per "
	  "vCPU; each entry is per CPU, about 80 bytes plus 8 bytes per CPU of "
	  "kernel memory, allocated at start (262144 entries on a 64-CPU host: "
	  "about 150 MiB)." },
	{ "disable-probe", K_PROBES, D(disabled), 0, 0, false, "",
	  0, "NAME", NULL, "do not load the probe on tracepoint NAME",
	  "Do not load the probes on these tracepoints (e.g. kvm_exit), comma "
	  "separated. List; may be repeated." },
	{ "guest-symbols", K_SYMBOLS, S(guest_symbols), 0, 0, true, "",
	  0, "VM:PATH", NULL, "symbol file of VM's guest kernel",
	  "Symbol file (ELF, absolute path, readable by kvmprofd) of the guest "
	  "kernel of the VM named <VM>, for guest profiles; or a list "
	  "<PATH>[@<OFFSET>][,<PATH>[@<OFFSET>]...]: a vmlinux moved by the "
	  "guest's KASLR <OFFSET> (or by the offset derived from a guest "
	  "kallsyms file in the list: its *_text* minus the vmlinux's), guest "
	  "kallsyms files, and guest </proc/modules>-style files (a symbol per "
	  "module). Under the systemd unit, files under /tmp, /home or /root "
	  "are not visible (PrivateTmp=, ProtectHome=). List, one VM per line, "
	  "at most 64." },
	{ "tracefs", K_PATH_OPT, D(tracefs), 0, 0, false, "",
	  0, "DIR", NULL, "tracefs mount (default: found or mounted)",
	  "Where tracefs is mounted; empty: found, or mounted on "
	  "</sys/kernel/tracing>." },
	{ "bpf-stats", K_BOOL, D(bpf_stats), 0, 0, false, "no",
	  0, NULL, "bpf-stats", "enable kernel BPF run-time stats (costs "
	  "about as much per event as a probe itself)",
	  "Enable the kernel's BPF run-time statistics (run count and time of "
	  "each probe; needs CAP_SYS_ADMIN at start, which the unit grants and "
	  "kvmprofd drops after attach). They cost about as much per event as "
	  "a probe itself." },
	{ "count-cache", K_BOOL, D(count_cache), 0, 0, false, "yes",
	  0, NULL, "no-count-cache", "count every event in the shared BPF "
	  "map, not in the per-thread cache (slower)",
	  "Count events of a loaded vCPU in a per-thread cache, published when "
	  "the thread returns from KVM_RUN, leaves the CPU, or every 50 ms "
	  "while it has events (attaches a program to sched_switch). With no, "
	  "every event goes to the shared BPF map (slower)." },
	{ "bpf", K_BOOL, D(bpf), 0, 0, false, "yes", 0, NULL, "no-bpf",
	  "load no BPF: serve KVM's own statistics only, VMs found in /proc",
	  "With no, load no BPF at all (hosts where BPF is not allowed) and "
	  "serve KVM's own statistics only: VMMs are then found in </proc> as "
	  "processes holding a KVM VM fd (*anon_inode:kvm-vm*), processes "
	  "younger than 3 s looked at every *interval-ms*, every process every "
	  "10 s (measured here: 198 processes, 9 ms of CPU per full pass)." },
	{ "kvm-stats", K_BOOL, D(kvm_stats), 0, 0, false, "yes", 0, NULL,
	  "no-kvm-stats", "do not read KVM's binary statistics (and do not "
	  "keep CAP_SYS_PTRACE)",
	  "Read KVM's binary statistics of each VM and vCPU from the KVM stats "
	  "fds its VMM holds (copied with *pidfd_getfd*(2): CAP_SYS_PTRACE is "
	  "kept permitted and raised only around that call; see *kvmprofd*(8), "
	  "PRIVILEGES); with no, they are not read and CAP_SYS_PTRACE is not "
	  "kept." },
	{ "kvm-stats-metrics", K_BOOL, D(kvm_stats_metrics), 0, 0, true, "yes",
	  0, NULL, "no-kvm-stats-metrics", "KVM's statistics in the API "
	  "only, not in /metrics",
	  "KVM's statistics in /metrics too (*kvmprof_kvm_\\**; on arm64 about "
	  "160 lines or 10 KiB per VM whose VMM keeps stats fds, mostly "
	  "histograms: raise *metrics-max-kib* for thousands of such VMs); "
	  "with no, in the API only." },
	{ "drop-privileges", K_BOOL, D(drop_privileges), 0, 0, false, "yes",
	  0, NULL, "no-drop-privileges", "keep all capabilities after attach",
	  "Drop privileges after attach (capabilities, PR_SET_NO_NEW_PRIVS; "
	  "see *kvmprofd*(8))." },
	{ "user", K_STR, S(user), 0, 0, false, "",
	  0, "NAME", NULL, "run as NAME after attach when started as root, "
	  "e.g. kvmprof (default: stay uid 0, without capabilities)",
	  "When started as root, run as this user (e.g. kvmprof) after attach, "
	  "if it exists; the guest-symbols files must be readable by it. Empty "
	  "or root: stay uid 0 (without capabilities). The systemd unit starts "
	  "kvmprofd as kvmprof already." },
	{ "spe-ring-kib", K_U32_POW2, D(spe_ring_kib), 64, 1u << 20, false,
	  "8192", 0, "N", NULL, "SPE capture ring buffer, power of 2 >= 64",
	  "BPF ring buffer for guest SPE data (kvmprof kernel patches) in KiB, "
	  "a power of two from 64 to 1048576 (chunks of up to 16 KiB are "
	  "reserved whole)." },
	{ "spe-wakeup-kib", K_U32, D(spe_wakeup_kib), 1, 1u << 20, false,
	  "256", 0, "N", NULL, "wake kvmprofd past this much SPE data",
	  "Wake kvmprofd once this much SPE data is waiting, 1 to 1048576 "
	  "KiB." },
	{ "spe-poll-ms", K_U32, D(spe_poll_ms), 1, 10000, true, "100",
	  0, "N", NULL, "and read SPE data at least this often",
	  "And read SPE data at least this often, 1 to 10000 ms." },
	{ "spe-raw-mib", K_U32, D(spe_raw_mib), 1, 4096, false, "64",
	  0, "N", NULL, "raw SPE recording window per VM",
	  "Raw SPE recording window per VM, 1 to 4096 MiB." },
	{ "spe-midr", K_U64, D(spe_midr), 0, UINT32_MAX, false, "0",
	  0, "X", NULL, "MIDR_EL1 of the guests' CPU, for SPE data sources, "
	  "0: generic",
	  "MIDR_EL1 of the guests' CPU, selecting the SPE data-source table "
	  "(0: generic)." },
	{ "spe-top-pcs", K_U32, D(spe_top_pcs), 0, 1u << 20, false, "4096",
	  0, "N", NULL, "top PCs tracked exactly per VM",
	  "Top-PC sketch size per VM, up to 1048576 (0: 4096); counts are "
	  "exact up to this many distinct PCs, else high by at most "
	  "samples/N." },
	{ "verbose", K_INT, D(verbosity), 0, 2, true, "0",
	  'v', NULL, "verbose", "more logging (twice: libbpf debug)",
	  "Logging: 0 informational, 1 debug, 2 also libbpf debug." },
};
/* clang-format on */
const size_t config_nkeys = ARRAY_SIZE(config_key_table);
_Static_assert(ARRAY_SIZE(config_key_table) <= CONFIG_MAX_KEYS,
	       "config: CONFIG_MAX_KEYS too small");

// SPDX-License-Identifier: GPL-2.0-only
/*
 * kvmprof: command-line client of kvmprofd, and offline SPE tools.
 * One dispatch table per noun, exact command matching, one error printer
 * (cli_err) that also speaks JSON.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include <kvmprof/abi.h>
#include <kvmprof/client.h>
#include "cli.h"
#include "table.h"
#include "version.h"

/* GET @path; on failure prints the error and returns 1. */
int cli_api_get(struct cli_ctx *ctx, const char *path, cJSON **ret)
{
	long status = 0;
	int r;

	r = kp_api_get(ctx->socket, path, ret, &status);
	switch (r) {
	case 0:
		break;
	case -ENOENT:
	case -ECONNREFUSED:
		return cli_err(ctx, r, "kvmprofd is not running (no daemon on "
			       "%s)", ctx->socket);
	case -ELIBACC:
		return cli_err(ctx, r, "%s", kp_api_load_error());
	case -EACCES:
	case -EPERM:
		return cli_err(ctx, r, "permission denied on %s (root or group "
			       "kvmprof needed)", ctx->socket);
	default:
		return cli_err(ctx, r, "talking to kvmprofd on %s: %s",
			       ctx->socket, strerror(-r));
	}
	if (status != 200) {
		const cJSON *e = cJSON_GetObjectItemCaseSensitive(*ret, "error");

		r = cli_err(ctx, status == 404 ? -ENOENT : -EIO, "%s",
			    cJSON_IsString(e) ? e->valuestring :
						"unexpected reply");
		cJSON_Delete(*ret);
		*ret = NULL;
		return r;
	}
	return 0;
}

static int cmd_vms(struct cli_ctx *ctx, int argc, char **argv)
{
	static const char *const head[] = { "ID", "PID>", "NAME", "VMM",
					    "STATE", "VCPUS>", "UEXITS>",
					    "PIO>", "MMIO_W>", "EXITS>" };
	const cJSON *vm;
	cJSON *vms;
	struct table t;
	char ex[24];

	if (cli_no_more_args(ctx, argc, argv, 1) || cli_api_get(ctx, "/v1/vms", &vms))
		return 1;
	if (ctx->json) {
		cli_print_json(vms);
		cJSON_Delete(vms);
		return 0;
	}
	table_init(&t, 10, head);
	cJSON_ArrayForEach(vm, vms)
		table_row(&t,
			  "%s\t%" PRIu64 "\t%s\t%s\t%s\t%" PRIu64 "\t%" PRIu64
			  "\t%" PRIu64 "\t%" PRIu64 "\t%s",
			  cli_str(vm, "id"), cli_num(vm, "pid"),
			  cli_str(vm, "name"), cli_str(vm, "vmm"),
			  cli_str(vm, "state"), cli_num(vm, "vcpus"),
			  cli_num(vm, "userspace_exits"), cli_num(vm, "pio"),
			  cli_num(vm, "mmio_write"),
			  cli_exits(vm, cli_num(vm, "exits"), ex, sizeof(ex)));
	table_print(&t, stdout);
	if (!t.nrows)
		printf("(no VMs seen)\n");
	table_free(&t);
	cJSON_Delete(vms);
	return 0;
}

/* ns as ms with one decimal */
static double ms(uint64_t ns)
{
	return (double)ns / 1e6;
}

/* Who ran while the vCPU waited: "  waited for: COMM (pid P, vm V) 1.0 ms" */
static void print_stolen(const cJSON *vcpu)
{
	const cJSON *sched = cli_ev_section(vcpu, KP_EV_VCPU_DELAY), *e;

	if (!cJSON_GetArraySize(cli_obj(sched, "stolen_by")))
		return;
	printf("  waited for (run delay %.1f ms):\n",
	       ms(cli_ev_total(vcpu, KP_EV_VCPU_DELAY)));
	cJSON_ArrayForEach(e, cli_obj(sched, "stolen_by")) {
		char who[96];

		/* comm "-": gone before it was named */
		snprintf(who, sizeof(who),
			 "%s (tid %" PRIu64 ", pid %" PRIu64 "%s%s)",
			 cli_str(e, "comm"), cli_num(e, "tid"),
			 cli_num(e, "pid"),
			 cJSON_GetObjectItem(e, "vm") ? ", vm " : "",
			 cJSON_GetObjectItem(e, "vm") ? cli_str(e, "vm") : "");
		printf("    %-48s %10.1f ms\n", who, ms(cli_num(e, "ns")));
	}
	printf("    %-48s %10.1f ms\n", "other",
	       ms(cli_num(sched, "stolen_other_ns")));
}

static void show_human(const cJSON *vm)
{
	static const char *const head[] = { "VCPU>",	 "UEXITS>", "PIO_OUT>",
					    "PIO_IN>",	 "MMIO_W>", "MMIO_R>",
					    "HALTS>",	 "EXITS>",  "RUN_MS>",
					    "DELAY_MS>", "STEAL%>" };
	const cJSON *c, *per = cli_obj(vm, "per_vcpu");
	struct table t;
	char ex[24];

	printf("VM %s (pid %" PRIu64 ", %s, %s) %s, %" PRIu64 " vCPUs\n",
	       cli_str(vm, "name"), cli_num(vm, "pid"), cli_str(vm, "vmm"),
	       cli_str(vm, "id"), cli_str(vm, "state"), cli_num(vm, "vcpus"));
	table_init(&t, 11, head);
	cJSON_ArrayForEach(c, per) {
		const cJSON *w = cli_ev_section(c, KP_EV_VCPU_WAKEUP);
		const cJSON *pio = cli_ev_section(c, KP_EV_PIO);
		const cJSON *mmio = cli_ev_section(c, KP_EV_MMIO);
		uint64_t run = cli_ev_total(c, KP_EV_VCPU_RUN);
		uint64_t delay = cli_ev_total(c, KP_EV_VCPU_DELAY);

		/* steal: the share of runnable time spent waiting */
		table_row(&t,
			  "%" PRIu64 "\t%" PRIu64 "\t%" PRIu64 "\t%" PRIu64
			  "\t%" PRIu64 "\t%" PRIu64 "\t%" PRIu64 "\t%s"
			  "\t%.1f\t%.1f\t%.1f",
			  cli_num(c, "vcpu"),
			  cli_ev_total(c, KP_EV_USERSPACE_EXIT),
			  cli_num(pio, "out"), cli_num(pio, "in"),
			  cli_num(mmio, "write"), cli_num(mmio, "read"),
			  cli_num(w, "waited") + cli_num(w, "polled"),
			  cli_exits(vm, cli_ev_total(c, KP_EV_EXIT), ex,
				    sizeof(ex)),
			  ms(run), ms(delay),
			  run + delay ? 100.0 * (double)delay /
						(double)(run + delay) :
					0.0);
	}
	table_print(&t, stdout);
	table_free(&t);
	cJSON_ArrayForEach(c, per) {
		printf("vCPU %" PRIu64 "\n", cli_num(c, "vcpu"));
		cli_print_kv("userspace exits",
			     cli_ev_by(c, KP_EV_USERSPACE_EXIT));
		cli_print_kv("exits", cli_ev_by(c, KP_EV_EXIT));
		cli_print_hist("exit->entry", cli_ev_by(c, KP_EV_EXIT_LAT));
		cli_print_hist("halt time", cli_ev_by(c, KP_EV_WAKEUP_LAT));
		print_stolen(c);
	}
	c = cli_obj(vm, "vm_level");
	if (c && (cli_ev_total(c, KP_EV_SET_IRQ) ||
		  cli_ev_total(c, KP_EV_MSI_SET_IRQ))) {
		printf("VM level (VMM threads)\n");
		printf("  set_irq=%" PRIu64 " msi=%" PRIu64 "\n",
		       cli_ev_total(c, KP_EV_SET_IRQ),
		       cli_ev_total(c, KP_EV_MSI_SET_IRQ));
		cli_print_kv("set_irq by gsi", cli_ev_by(c, KP_EV_SET_IRQ));
	}
}

static int cmd_show(struct cli_ctx *ctx, int argc, char **argv)
{
	char path[512], esc[400];
	cJSON *vm;

	if (cli_no_more_args(ctx, argc, argv, 2))
		return 1;
	if (kp_path_escape(argv[1], esc, sizeof(esc)))
		return cli_err(ctx, -ENAMETOOLONG, "VM reference too long");
	snprintf(path, sizeof(path), "/v1/vms/%s?refresh=1", esc);
	if (cli_api_get(ctx, path, &vm))
		return 1;
	if (ctx->json)
		cli_print_json(vm);
	else
		show_human(vm);
	cJSON_Delete(vm);
	return 0;
}

static int cmd_status(struct cli_ctx *ctx, int argc, char **argv)
{
	static const char *const head[] = { "PROBE", "KIND", "STATE",
					    "EVENTS>", "NS/EVENT>", "REASON" };
	const cJSON *p, *lost, *reg;
	cJSON *st;
	struct table t;

	if (cli_no_more_args(ctx, argc, argv, 1) ||
	    cli_api_get(ctx, "/v1/status", &st))
		return 1;
	if (ctx->json) {
		cli_print_json(st);
		cJSON_Delete(st);
		return 0;
	}
	printf("kvmprofd %s, pid %" PRIu64 ", up %" PRIu64
	       " s, kvm_exit layout %s\n",
	       cli_str(st, "version"), cli_num(st, "pid"),
	       cli_num(st, "uptime_ms") / 1000, cli_str(st, "kvm_exit_layout"));
	table_init(&t, 6, head);
	cJSON_ArrayForEach(p, cli_obj(st, "probes")) {
		double cnt = cli_num(p, "run_cnt");
		char ev[32] = "off", ns[32] = "off";

		/* stats off: the daemon sends null, not a count of 0 */
		if (cJSON_IsNumber(cJSON_GetObjectItem(p, "run_cnt"))) {
			snprintf(ev, sizeof(ev), "%.0f", cnt);
			snprintf(ns, sizeof(ns), "%.0f",
				 cnt ? cli_num(p, "run_time_ns") / cnt : 0);
		}
		/* attached but never fires: not "0 exits" */
		if (cJSON_IsTrue(cJSON_GetObjectItem(p, "silent")))
			table_row(&t, "%s\t%s\tsilent\t%s\t%s\t%s",
				  cli_str(p, "name"), cli_str(p, "kind"), ev,
				  ns, cli_str(p, "silent_reason"));
		else
			table_row(&t, "%s\t%s\t%s\t%s\t%s\t%s",
				  cli_str(p, "name"), cli_str(p, "kind"),
				  cli_str(p, "state"), ev, ns,
				  cli_str(p, "reason"));
	}
	table_print(&t, stdout);
	table_free(&t);
	if (cJSON_IsFalse(cJSON_GetObjectItem(st, "bpf_stats")))
		printf("BPF run stats: %s\n", cli_str(st, "bpf_stats_reason"));
	printf("count cache: %s; vCPU run time and steal: %s\n",
	       cli_str(st, "count_cache"), cli_str(st, "sched"));
	printf("irqfd kworkers' events to their VM: %s\n",
	       cli_str(st, "irqfd_attribution"));
	lost = cli_obj(st, "lost");
	reg = cli_obj(st, "registry");
	printf("events lost: %" PRIu64 " (counters map full %" PRIu64
	       ", exit timestamps "
	       "full %" PRIu64 ")\n",
	       cli_num(lost, "total"), cli_num(lost, "counters_map_full"),
	       cli_num(lost, "exit_timestamps_full"));
	{
		const cJSON *spe = cli_obj(st, "spe_capture");

		printf("guest SPE: %" PRIu64 " bytes in %" PRIu64
		       " chunks, %" PRIu64 " bytes lost, "
		       "%" PRIu64 " malformed chunks\n",
		       cli_num(spe, "bytes"), cli_num(spe, "chunks"),
		       cli_num(spe, "lost_bytes"), cli_num(spe, "malformed"));
	}
	printf("VMs tracked: %" PRIu64 " of %" PRIu64 " (not tracked: %" PRIu64
	       ")\n",
	       cli_num(reg, "vms"), cli_num(reg, "max_vms"),
	       cli_num(reg, "vms_not_tracked"));
	printf("events of KVM kernel threads with no VM: %" PRIu64 "\n",
	       cli_num(reg, "events_unattributed"));
	if (cJSON_IsFalse(cJSON_GetObjectItem(st, "bpf")))
		printf("BPF: off (bpf = no): KVM statistics only\n");
	{
		const cJSON *ks = cli_obj(st, "kvm_stats");

		if (ks)
			printf("KVM statistics: %s, CAP_SYS_PTRACE %s, %" PRIu64
			       " stats fds taken in %" PRIu64 " scans (%" PRIu64
			       " failed)\n",
			       cJSON_IsTrue(cli_obj(ks, "enabled")) ? "on" :
								      "off",
			       cJSON_IsTrue(cli_obj(ks, "cap_sys_ptrace")) ?
				       "kept" :
				       "not kept",
			       cli_num(ks, "fds_taken"), cli_num(ks, "scans"),
			       cli_num(ks, "scan_errors"));
	}
	cJSON_Delete(st);
	return 0;
}

static int cmd_help(struct cli_ctx *ctx, int argc, char **argv);

/* `spe dump|records|report FILE` (offline) or `spe VM` (live). */
static int cmd_spe_any(struct cli_ctx *ctx, int argc, char **argv)
{
	if (argc >= 2)
		for (const struct cli_cmd *t = spe_cmds; t->name; t++)
			if (!strcmp(t->name, argv[1]))
				return cmd_spe(ctx, argc - 1, argv + 1);
	if (argc == 2)
		return cmd_spe_vm(ctx, argc, argv);
	return cli_err(ctx, -EINVAL, "usage: kvmprof spe VM | kvmprof spe "
		       "dump|records|report FILE ...");
}

static const struct cli_cmd top_cmds[] = {
	{ "vms", cmd_vms, "", "list the VMs kvmprofd sees" },
	{ "show", cmd_show, "VM",
	  "per-vCPU profile of a VM (by name, pid or id): events, run time, "
	  "steal and whom each vCPU waited for" },
	{ "status", cmd_status, "", "probe states, events lost, BPF run time" },
	{ "top", cmd_top,
	  "[--interval S] [--count N] [--sort COL] [--asc] [--filter TEXT] "
	  "[--vm VM]",
	  "live per-VM (or one VM's per-vCPU) rates and STEAL%; keys on a "
	  "terminal" },
	{ "spe", cmd_spe_any, "VM | dump|records|report FILE ...",
	  "a VM's guest SPE profile, or decode SPE data offline" },
	{ "apf", cmd_apf, "VM", "a VM's asynchronous page faults per vCPU" },
	{ "sysreg", cmd_sysreg, "VM",
	  "a VM's sysreg write traps vs elided saves" },
	{ "kvm-stats", cmd_kvm_stats, "VM",
	  "KVM's own statistics of a VM and its vCPUs (binary stats)" },
	{ "record", cmd_record,
	  "VM -o FILE [--duration S] [--midr X] [--format F]",
	  "record a VM's raw guest SPE stream (gzip)" },
	{ "help", cmd_help, "", "this text" },
	{}
};

static void usage(FILE *f)
{
	fprintf(f,
"Usage: kvmprof [--json] [--socket PATH] COMMAND [ARGS]\n"
"Host-side profiles of KVM guests, from kvmprofd.\n"
"\n"
"Options (anywhere on the line):\n"
"  -j, --json         machine-readable JSON output (errors too)\n"
"  -s, --socket PATH  kvmprofd socket (default $KVMPROF_SOCKET or\n"
"                     " KP_DEFAULT_SOCKET ")\n"
"  -h, --help         this text\n"
"  -V, --version      print the version\n"
"\n"
"Commands:\n");
	cli_print_cmds(f, NULL, top_cmds);
	fprintf(f, "  SPE commands:\n");
	cli_print_cmds(f, "spe", spe_cmds);
}

static int cmd_help(struct cli_ctx *ctx, int argc, char **argv)
{
	(void)ctx;
	(void)argc;
	(void)argv;
	usage(stdout);
	return 0;
}

int main(int argc, char **argv)
{
	struct cli_ctx ctx = { .socket = getenv("KVMPROF_SOCKET"),
			       .prog = "kvmprof" };
	char **rest;
	int n = 0;

	if (!ctx.socket || !*ctx.socket)
		ctx.socket = KP_DEFAULT_SOCKET;
	/* Global options may appear anywhere before "--". */
	rest = calloc((size_t)argc + 1, sizeof(*rest));
	if (!rest)
		return cli_err(&ctx, -ENOMEM, "out of memory");
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "--")) {
			while (++i < argc)
				rest[n++] = argv[i];
			break;
		}
		if (!strcmp(a, "-j") || !strcmp(a, "--json")) {
			ctx.json = true;
		} else if (!strcmp(a, "-s") || !strcmp(a, "--socket")) {
			if (++i >= argc)
				return cli_err(&ctx, -EINVAL,
					       "%s needs a path", a);
			ctx.socket = argv[i];
		} else if (!strncmp(a, "--socket=", 9)) {
			ctx.socket = a + 9;
		} else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			usage(stdout);
			return 0;
		} else if (!strcmp(a, "-V") || !strcmp(a, "--version")) {
			printf("kvmprof %s\n", KVMPROF_VERSION);
			return 0;
		} else {
			rest[n++] = argv[i];
		}
	}
	if (n == 0) {
		usage(stderr);
		return 2;
	}
	n = cli_dispatch(&ctx, NULL, top_cmds, n, rest);
	free(rest);
	return n;
}

// SPDX-License-Identifier: GPL-2.0-only
/*
 * Per-VM views of the data the kvmprof kernel patches provide, read
 * through the event table (cli_ev_*(), also used by `show`), and SPE
 * recording: kvmprof apf VM, kvmprof sysreg VM, kvmprof spe VM,
 * kvmprof record VM -o FILE.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include <kvmprof/abi.h>
#include <kvmprof/client.h>
#include <kvmprof/events.h>
#include <kvmprof/json.h>
#include <kvmprof/spe_perfdata.h>
#include <kvmprof/spefile.h>
#include <kvmprof/util.h>
#include "cli.h"
#include "table.h"

const cJSON *cli_ev_section(const cJSON *c, uint32_t event)
{
	const struct kp_event_desc *e = kp_event(event);

	return !e || !e->section ? NULL :
	       *e->section	 ? cli_obj(c, e->section) :
				   c;
}

uint64_t cli_ev_total(const cJSON *c, uint32_t event)
{
	const struct kp_event_desc *e = kp_event(event);

	return e && e->total ? cli_num(cli_ev_section(c, event), e->total) : 0;
}

const cJSON *cli_ev_by(const cJSON *c, uint32_t event)
{
	const struct kp_event_desc *e = kp_event(event);

	return e && e->by ? cli_obj(cli_ev_section(c, event), e->by) : NULL;
}

/* GET /v1/vms/{ref}{sub}?refresh=1 */
static int get_vm(struct cli_ctx *ctx, const char *ref, const char *sub,
		  cJSON **ret)
{
	char path[512], esc[400];

	if (kp_path_escape(ref, esc, sizeof(esc)))
		return cli_err(ctx, -ENAMETOOLONG, "VM reference too long");
	snprintf(path, sizeof(path), "/v1/vms/%s%s?refresh=1", esc, sub);
	return cli_api_get(ctx, path, ret);
}

/*
 * --json output of a per-vCPU view: {"vm", "id", "per_vcpu": [{"vcpu",
 * @name: the vCPU's @outer[.@inner] object}]}.  Frees @vm; returns 0.
 */
static int print_vcpu_sections(cJSON *vm, const char *name, const char *outer,
			       const char *inner)
{
	cJSON *out = cJSON_CreateObject(), *arr;
	const cJSON *c;

	cJSON_AddStringToObject(out, "vm", cli_str(vm, "name"));
	cJSON_AddStringToObject(out, "id", cli_str(vm, "id"));
	arr = cJSON_AddArrayToObject(out, "per_vcpu");
	cJSON_ArrayForEach(c, cli_obj(vm, "per_vcpu")) {
		const cJSON *sec = cli_obj(c, outer);
		cJSON *a = cJSON_CreateObject();

		if (inner)
			sec = cli_obj(sec, inner);
		cJSON_AddNumberToObject(a, "vcpu", cli_num(c, "vcpu"));
		cJSON_AddItemToObject(a, name, cJSON_Duplicate(sec, 1));
		cJSON_AddItemToArray(arr, a);
	}
	cli_print_json(out);
	cJSON_Delete(out);
	cJSON_Delete(vm);
	return 0;
}

int cmd_apf(struct cli_ctx *ctx, int argc, char **argv)
{
	static const char *const head[] = { "VCPU>", "TRY>", "NOT_PRESENT>",
					    "READY>", "COMPLETED>",
					    "REPEATED>", "IN_FLIGHT>" };
	const char *sec = kp_event(KP_EV_APF_TRY)->section;
	const cJSON *c;
	cJSON *vm;
	struct table t;

	if (cli_no_more_args(ctx, argc, argv, 2) ||
	    get_vm(ctx, argv[1], "", &vm))
		return 1;
	if (ctx->json)
		return print_vcpu_sections(vm, sec, sec, NULL);
	printf("VM %s (%s): asynchronous page faults\n", cli_str(vm, "name"),
	       cli_str(vm, "id"));
	table_init(&t, 7, head);
	cJSON_ArrayForEach(c, cli_obj(vm, "per_vcpu"))
		table_row(&t,
			  "%" PRIu64 "\t%" PRIu64 "\t%" PRIu64 "\t%" PRIu64
			  "\t%" PRIu64 "\t%" PRIu64 "\t%" PRIu64,
			  cli_num(c, "vcpu"), cli_ev_total(c, KP_EV_APF_TRY),
			  cli_ev_total(c, KP_EV_APF_NOT_PRESENT),
			  cli_ev_total(c, KP_EV_APF_READY),
			  cli_ev_total(c, KP_EV_APF_COMPLETED),
			  cli_ev_total(c, KP_EV_APF_REPEATED),
			  cli_num(cli_ev_section(c, KP_EV_APF_TRY),
				  "in_flight"));
	table_print(&t, stdout);
	table_free(&t);
	cJSON_ArrayForEach(c, cli_obj(vm, "per_vcpu")) {
		const cJSON *h = cli_ev_by(c, KP_EV_APF_LAT);

		if (h && h->child) {
			printf("vCPU %" PRIu64 "\n", cli_num(c, "vcpu"));
			cli_print_hist("not present -> ready", h);
		}
	}
	cJSON_Delete(vm);
	return 0;
}

int cmd_sysreg(struct cli_ctx *ctx, int argc, char **argv)
{
	static const char *const head[] = { "VCPU>", "REGISTER",
					    "WRITE_TRAPS>", "SAVES_ELIDED>",
					    "ELIDED/TRAP>" };
	const cJSON *c, *r;
	cJSON *vm;
	struct table t;

	if (cli_no_more_args(ctx, argc, argv, 2) ||
	    get_vm(ctx, argv[1], "", &vm))
		return 1;
	if (ctx->json)
		return print_vcpu_sections(
			vm, "registers", kp_event(KP_EV_SYSREG_DIRTY)->section,
			"registers");
	printf("VM %s (%s): EL1 register saves elided vs write traps taken\n",
	       cli_str(vm, "name"), cli_str(vm, "id"));
	table_init(&t, 5, head);
	cJSON_ArrayForEach(c, cli_obj(vm, "per_vcpu"))
		cJSON_ArrayForEach(
			r, cli_obj(cli_ev_section(c, KP_EV_SYSREG_DIRTY),
				   "registers")) {
			const cJSON *ratio = cli_obj(r, "elided_per_trap");
			char rs[32] = "-";

			if (cJSON_IsNumber(ratio))
				snprintf(rs, sizeof(rs), "%.2f",
					 ratio->valuedouble);
			table_row(&t,
				  "%" PRIu64 "\t%s\t%" PRIu64 "\t%" PRIu64
				  "\t%s",
				  cli_num(c, "vcpu"), cli_str(r, "name"),
				  cli_num(r, "write_traps"),
				  cli_num(r, "saves_elided"), rs);
		}
	table_print(&t, stdout);
	if (!t.nrows)
		printf("(no elision events: kernel without the kvmprof "
		       "patches, or elision off)\n");
	table_free(&t);
	cJSON_Delete(vm);
	return 0;
}

/* "ns", "KiB", ... of a KVM statistic, or "base^exponent unit". */
static void ks_unit(const cJSON *s, char *out, size_t len)
{
	static const struct {
		const char *unit;
		int base, exp;
		const char *text;
	} known[] = {
		{ "seconds", 10, -9, "ns" },   { "seconds", 10, -6, "us" },
		{ "seconds", 10, -3, "ms" },   { "seconds", 10, 0, "s" },
		{ "bytes", 2, 0, "B" },	       { "bytes", 2, 10, "KiB" },
		{ "bytes", 2, 20, "MiB" },     { "bytes", 2, 30, "GiB" },
		{ "cycles", 10, 0, "cycles" }, { "boolean", 10, 0, "bool" },
		{ "none", 10, 0, "" },
	};
	const char *unit = cli_str(s, "unit");
	int base = (int)cli_num(s, "base");
	const cJSON *e = cli_obj(s, "exponent");
	int exp = cJSON_IsNumber(e) ? e->valueint : 0;

	for (size_t i = 0; i < ARRAY_SIZE(known); i++)
		if (!strcmp(unit, known[i].unit) && base == known[i].base &&
		    exp == known[i].exp) {
			snprintf(out, len, "%s", known[i].text);
			return;
		}
	snprintf(out, len, "%d^%d %s", base, exp, unit);
}

/* One stats fd's statistics: value, or the non-empty buckets "i:n". */
static void ks_print(const char *title, const cJSON *fd)
{
	static const char *const head[] = { "STAT", "TYPE", "VALUE>", "UNIT" };
	const cJSON *s;
	struct table t;

	printf("%s (%s)%s\n", title, cli_str(fd, "id"),
	       cJSON_IsTrue(cli_obj(fd, "read")) ? "" : ": not read");
	table_init(&t, 4, head);
	cJSON_ArrayForEach(s, cli_obj(fd, "stats")) {
		const cJSON *b = cli_obj(s, "buckets"), *it;
		char unit[48], v[256] = "";
		size_t n = 0;
		int i = 0;

		ks_unit(s, unit, sizeof(unit));
		if (!b)
			snprintf(v, sizeof(v), "%" PRIu64, cli_num(s, "value"));
		cJSON_ArrayForEach(it, b) {
			uint64_t x = 0;

			if (kp_json_u64(it, &x) && x && n < sizeof(v))
				n += (size_t)snprintf(v + n, sizeof(v) - n,
						      "%s%d:%" PRIu64,
						      n ? " " : "", i, x);
			i++;
		}
		if (b && !n)
			snprintf(v, sizeof(v), "(empty)");
		table_row(&t, "%s\t%s\t%s\t%s", cli_str(s, "name"),
			  cli_str(s, "type"), v, unit);
	}
	table_print(&t, stdout);
	table_free(&t);
}

int cmd_kvm_stats(struct cli_ctx *ctx, int argc, char **argv)
{
	const cJSON *fd, *reason;
	cJSON *vm;
	char title[32];

	if (cli_no_more_args(ctx, argc, argv, 2) ||
	    get_vm(ctx, argv[1], "/kvm-stats", &vm))
		return 1;
	if (ctx->json) {
		cli_print_json(vm);
		cJSON_Delete(vm);
		return 0;
	}
	reason = cJSON_GetObjectItem(vm, "reason");
	printf("VM %s (pid %" PRIu64 ", %s): KVM statistics %s%s%s\n",
	       cli_str(vm, "name"), cli_num(vm, "pid"), cli_str(vm, "id"),
	       cli_str(vm, "state"),
	       cJSON_IsString(reason) && *reason->valuestring ? ": " : "",
	       cJSON_IsString(reason) ? reason->valuestring : "");
	printf("source: %s\n", cli_str(vm, "source"));
	fd = cli_obj(vm, "vm_stats");
	if (cJSON_IsObject(fd))
		ks_print("VM", fd);
	cJSON_ArrayForEach(fd, cli_obj(vm, "vcpus")) {
		snprintf(title, sizeof(title), "vCPU %" PRIu64,
			 cli_num(fd, "vcpu"));
		ks_print(title, fd);
	}
	cJSON_Delete(vm);
	return 0;
}

int cmd_spe_vm(struct cli_ctx *ctx, int argc, char **argv)
{
	static const char *const head[] = { "VCPU>", "SAMPLES>", "EL0>",
					    "EL1>", "EL2>", "LOST_CHUNKS>",
					    "BAD_BYTES>", "DROPPED>" };
	const cJSON *c;
	cJSON *spe;
	struct table t;

	if (cli_no_more_args(ctx, argc, argv, 2) ||
	    get_vm(ctx, argv[1], "/spe", &spe))
		return 1;
	if (ctx->json) {
		cli_print_json(spe);
		cJSON_Delete(spe);
		return 0;
	}
	printf("VM %s: guest SPE, %" PRIu64 " samples from %" PRIu64 " bytes\n",
	       argv[1], cli_num(spe, "samples"), cli_num(spe, "bytes"));
	table_init(&t, 8, head);
	cJSON_ArrayForEach(c, cli_obj(spe, "per_vcpu")) {
		const cJSON *el = cli_obj(c, "samples_by_el");

		table_row(&t,
			  "%" PRIu64 "\t%" PRIu64 "\t%" PRIu64 "\t%" PRIu64
			  "\t%" PRIu64 "\t%" PRIu64 "\t%" PRIu64 "\t%" PRIu64,
			  cli_num(c, "vcpu"), cli_num(c, "samples"),
			  cli_num(el, "el0"), cli_num(el, "el1"),
			  cli_num(el, "el2"), cli_num(c, "lost_chunks"),
			  cli_num(c, "bad_bytes"),
			  cli_num(c, "dropped_records"));
	}
	table_print(&t, stdout);
	table_free(&t);
	cJSON_Delete(spe);
	return 0;
}

static volatile sig_atomic_t stop_rec;

static void on_stop(int s)
{
	(void)s;
	stop_rec = 1;
}

/*
 * kvmprof record VM -o FILE [--duration S] [--midr X]: the VM's raw SPE
 * stream, gzip-compressed (include/kvmprof/spefile.h).  Written to a
 * temporary file renamed at the end: nothing half-written on failure.
 */
int cmd_record(struct cli_ctx *ctx, int argc, char **argv)
{
	const char *out = NULL, *midr = NULL;
	bool perf = false; /* --format perf: perf.data */
	double duration = 10;
	static const char *const hdrs[] = { "X-Kvmprof-Cursor",
					    "X-Kvmprof-Lost-Blocks" };
	char path[512], esc[400], hv[2][KP_HDR_VAL_MAX];
	uint64_t cursor = 0, blocks = 0, bytes = 0, lost = 0;
	struct kp_spefile_writer w;
	struct spe_perfdata_writer pw;
	char trailer[256];
	double t0;
	cJSON *vm, *meta;
	char *mtext;
	int r = 0;

	if (argc < 2)
		return cli_err(ctx, -EINVAL, "record: missing VM");
	for (int i = 2; i < argc; i++) {
		char *end;

		if ((!strcmp(argv[i], "-o") || !strcmp(argv[i], "--output")) &&
		    i + 1 < argc) {
			out = argv[++i];
		} else if (!strcmp(argv[i], "--duration") && i + 1 < argc) {
			duration = strtod(argv[++i], &end);
			if (*end || duration <= 0 || duration > 86400)
				return cli_err(ctx, -EINVAL,
					       "record: bad --duration");
		} else if (!strcmp(argv[i], "--midr") && i + 1 < argc) {
			midr = argv[++i];
		} else if (!strcmp(argv[i], "--format") && i + 1 < argc) {
			perf = !strcmp(argv[++i], "perf");
			if (!perf && strcmp(argv[i], "kpspe"))
				return cli_err(ctx, -EINVAL,
					       "record: --format "
					       "takes kpspe or perf");
		} else {
			return cli_err(ctx, -EINVAL, "record: unexpected "
				       "argument '%s'", argv[i]);
		}
	}
	if (!out)
		return cli_err(ctx, -EINVAL, "record: -o FILE is required");
	if (get_vm(ctx, argv[1], "", &vm))
		return 1;
	if (kp_path_escape(cli_str(vm, "id"), esc, sizeof(esc))) {
		cJSON_Delete(vm);
		return cli_err(ctx, -ENAMETOOLONG, "VM id too long");
	}
	meta = cJSON_CreateObject();
	cJSON_AddStringToObject(meta, "vm", cli_str(vm, "name"));
	cJSON_AddStringToObject(meta, "id", cli_str(vm, "id"));
	cJSON_AddNumberToObject(meta, "pid", cli_num(vm, "pid"));
	cJSON_AddStringToObject(meta, "vmm", cli_str(vm, "vmm"));
	cJSON_AddNumberToObject(meta, "vcpus", cli_num(vm, "vcpus"));
	if (midr)
		cJSON_AddStringToObject(meta, "midr", midr);
	else
		cJSON_AddNullToObject(meta, "midr");
	cJSON_AddNumberToObject(meta, "start_unix", (double)time(NULL));
	cJSON_Delete(vm);
	mtext = cJSON_PrintUnformatted(meta);
	cJSON_Delete(meta);

	if (perf)
		r = mtext ? spe_perfdata_create(&pw, out) : -ENOMEM;
	else
		r = mtext ? kp_spefile_create(&w, out, mtext) : -ENOMEM;
	free(mtext);
	if (r)
		return cli_err(ctx, r, "record: %s: %s", out, strerror(-r));
	signal(SIGINT, on_stop);
	signal(SIGTERM, on_stop);
	t0 = kp_mono_s();
	for (;;) {
		uint8_t *buf = NULL;
		size_t len = 0;
		long status = 0;
		bool last;

		last = stop_rec || kp_mono_s() - t0 >= duration;
		snprintf(path, sizeof(path), "/v1/vms/%s/spe/raw?cursor=%llu",
			 esc, (unsigned long long)cursor);
		r = kp_api_get_raw(ctx->socket, path, &buf, &len, &status, hdrs,
				   hv, 2);
		if (r < 0 || status != 200 || !hv[0][0]) {
			free(buf);
			r = r < 0 ? r : -EIO;
			goto fail;
		}
		/* blocks that left the daemon's window before we read them */
		lost += strtoull(hv[1], NULL, 10);
		if (!perf && kp_spefile_blocks(&w, buf, len)) {
			free(buf);
			r = -EIO;
			goto fail;
		}
		for (size_t off = 0; off + 8 <= len;) {
			uint32_t vcpu, bl;

			memcpy(&vcpu, buf + off, 4);
			memcpy(&bl, buf + off + 4, 4);
			if (off + 8 + bl > len)
				break;
			/* perf.data: an AUXTRACE record per block */
			r = perf ? spe_perfdata_aux(&pw, vcpu, buf + off + 8,
						    bl) :
				   0;
			if (r) {
				free(buf);
				goto fail;
			}
			blocks++;
			bytes += bl;
			off += 8 + bl;
		}
		free(buf);
		cursor = strtoull(hv[0], NULL, 10);
		if (last)
			break;
		usleep(200000);
	}
	snprintf(trailer, sizeof(trailer),
		 "{\"blocks\":%llu,\"bytes\":%llu,\"lost_blocks\":%llu}",
		 (unsigned long long)blocks, (unsigned long long)bytes,
		 (unsigned long long)lost);
	r = perf ? spe_perfdata_commit(&pw) : kp_spefile_commit(&w, trailer);
	if (r)
		goto out;
	if (ctx->json)
		printf("{\"file\":\"%s\",\"blocks\":%llu,\"bytes\":%llu}\n",
		       out, (unsigned long long)blocks,
		       (unsigned long long)bytes);
	else
		printf("recorded %llu bytes of SPE data in %llu blocks to %s\n",
		       (unsigned long long)bytes, (unsigned long long)blocks,
		       out);
	return 0;
fail:
	if (perf)
		spe_perfdata_abort(&pw);
	else
		kp_spefile_abort(&w);
out:
	return cli_err(ctx, r, "record: %s",
		       r == -EIO     ? "writing the recording or reading from "
				       "kvmprofd failed" :
		       r == -ELIBACC ? kp_api_load_error() :
				       strerror(-r));
}

// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target for the API's request path (built with ASan/UBSan,
 * `make fuzz`): the input is a request target "PATH?QUERY", split as the
 * HTTP server does, its parameters parsed (api_query_arg), routed
 * (api_route_parse), its VM reference resolved (registry_find) against a
 * small registry whose names look like pids and ids, and the VM rendered.
 * Besides not crashing, it checks properties:
 *  - a rejected parameter has a reason; a route has one on failure only;
 *  - a VM reference is non-empty, bounded, without '/', and taken from
 *    the path; cursor routes only to spe/raw;
 *  - a VM found matches the reference by id, name or decimal pid;
 *  - the input as a JSON body (the client's parser, kp_json_parse) keeps
 *    every integer it re-prints within the input's own digits.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kvmprof/json.h>
#include <kvmprof/util.h>
#include "api_route.h"
#include "registry.h"
#include "render.h"

#define CHECK(c)                          \
	do {                              \
		if (!(c))                 \
			__builtin_trap(); \
	} while (0)

static struct registry reg;

static int alive(uint32_t pid, uint64_t start_ns)
{
	return 1;
}

static void identify(uint32_t pid, struct kp_vm_ident *id)
{
	/* names that collide with pids, ids and each other */
	static const char *const names[] = { "web", "200", "web", "100-1" };

	memset(id, 0, sizeof(*id));
	snprintf(id->name, sizeof(id->name), "%s", names[pid / 100 % 4]);
}

static void registry_setup(void)
{
	static const struct registry_ops ops = { alive, identify };
	struct kp_count c[8];
	struct kp_count *stale = NULL;
	size_t nstale = 0;

	registry_init(&reg, 8, 1000, &ops);
	for (uint32_t i = 0; i < 4; i++) {
		registry_note_vm(&reg, 100 * (i + 1), i + 1, NULL, 1);
		c[2 * i] = (struct kp_count){
			.key = { .tgid = 100 * (i + 1),
				 .start_ns = i + 1,
				 .vcpu = 0,
				 .event = KP_EV_EXIT,
				 .sub = 30 },
			.value = 1ull << (50 + i),
		};
		c[2 * i + 1] = (struct kp_count){
			.key = { .tgid = 100 * (i + 1),
				 .start_ns = i + 1,
				 .vcpu = 1,
				 .event = KP_EV_LAT_SUM,
				 .sub = KP_EV_WAKEUP_LAT },
			.value = UINT64_MAX - i,
		};
	}
	registry_update(&reg, c, 8, 2, &stale, &nstale);
	free(stale);
}

static bool matches(const struct vm *vm, const char *ref)
{
	uint64_t pid;

	return !strcmp(vm->id, ref) || !strcmp(vm->ident.name, ref) ||
	       (kp_parse_u64(ref, strlen(ref), &pid) && pid == vm->pid);
}

/* The parameters of @query ("a=1&b"), as the server hands them over. */
static int parse_query(char *query, struct api_query *q)
{
	char *save = NULL;

	for (char *kv = strtok_r(query, "&", &save); kv;
	     kv = strtok_r(NULL, "&", &save)) {
		char *eq = strchr(kv, '=');
		int r;

		if (eq)
			*eq = '\0';
		r = api_query_arg(q, kv, eq ? eq + 1 : NULL);
		CHECK(!r == !q->error);
		if (r)
			return r;
	}
	return 0;
}

static void request(const char *data, size_t size)
{
	char *url = strndup(data, size), *query;
	struct api_query q = {};
	struct api_route rt;
	struct vm *vm;
	cJSON *o;
	char *text;
	int r;

	if (!url)
		return;
	query = strchr(url, '?');
	if (query)
		*query++ = '\0';
	if (query && parse_query(query, &q))
		goto out;
	r = api_route_parse(url, &q, &rt);
	CHECK(!r == !rt.error);
	if (r)
		goto out;
	CHECK(!q.has_cursor || rt.target == API_VM_SPE_RAW);
	if (rt.target == API_STATUS || rt.target == API_VMS)
		goto out;
	CHECK(rt.ref[0] && strlen(rt.ref) <= API_MAX_REF);
	CHECK(!strchr(rt.ref, '/') &&
	      !strncmp(url + 8, rt.ref, strlen(rt.ref)));
	vm = registry_find(&reg, rt.ref);
	if (!vm)
		goto out;
	CHECK(matches(vm, rt.ref));
	o = render_vm(vm, KP_EXIT_LAYOUT_X86, 3, NULL, false);
	text = o ? cJSON_PrintUnformatted(o) : NULL;
	/* the counters above 2^53 are there digit for digit */
	CHECK(!text || strstr(text, "1844674407370955161"));
	cJSON_free(text);
	cJSON_Delete(o);
out:
	free(url);
}

/* The client's parser: integers above 2^53 come back as the input's text. */
static void json_body(const char *data, size_t size)
{
	cJSON *o = kp_json_parse(data, size), *it;
	uint64_t v;

	if (!o)
		return;
	it = o;
	/* a top-level raw integer is the input's own digits */
	if (cJSON_IsRaw(it)) {
		CHECK(kp_json_u64(it, &v) && v > (1ull << 53));
		CHECK(memmem(data, size, it->valuestring,
			     strlen(it->valuestring)));
	}
	cJSON_free(cJSON_PrintUnformatted(o));
	cJSON_Delete(o);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!reg.max_vms)
		registry_setup();
	request((const char *)data, size);
	json_body((const char *)data, size);
	return 0;
}

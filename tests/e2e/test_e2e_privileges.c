// SPDX-License-Identifier: GPL-2.0-only
/*
 * kvmprofd's access and privileges end to end on real KVM: the socket
 * only for group kvmprof, the metrics port on loopback only (checked in a
 * private network namespace with a second address), no capability after
 * the drop (and --user), and the daemon inside its unit's identity,
 * capabilities and system call filter, still counting exactly.
 * Expectations come from the requested workload, the VMM's own report and
 * /proc, never from the daemon.
 */
#include <errno.h>
#include <grp.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <cmocka.h>

#include <kvmprof/client.h>
#include "harness.h"
#include "http.h"
#include "svc.h"

/* The VM is shown as exited: its final counts are in (the path has
 * ?refresh=1, which folds the BPF counters in first). */
static bool exited(const cJSON *vm, const void *arg)
{
	return cJSON_IsString(jget(vm, "state")) &&
	       !strcmp(jget(vm, "state")->valuestring, "exited");
}

/* Wait until @d shows the VM @name as exited. */
static void wait_exited(const struct kpd *d, const char *name)
{
	char path[160];

	snprintf(path, sizeof(path), "/v1/vms/%s?refresh=1", name);
	cJSON_Delete(kpd_wait(d, path, exited, NULL, 5000));
}

/* As nobody (65534), with @groups supplementary groups: GET /v1/status
 * status code, or -errno of connect(). */
static int connect_as(const char *sock, const gid_t *groups, size_t ngroups)
{
	pid_t pid = fork();

	if (pid == 0) {
		struct sockaddr_un sa = { .sun_family = AF_UNIX };
		cJSON *j = NULL;
		long status = 0;
		int fd;

		if (setgroups(ngroups, groups) ||
		    setresgid(65534, 65534, 65534) ||
		    setresuid(65534, 65534, 65534))
			_exit(100);
		snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock);
		fd = socket(AF_UNIX, SOCK_STREAM, 0);
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)))
			_exit(errno == EACCES ? 101 : 102);
		close(fd);
		if (kp_api_get(sock, "/v1/status", &j, &status))
			_exit(103);
		_exit(status == 200 ? 0 : 104);
	}
	return wait_exit(pid);
}

/* The socket: 0660, group kvmprof; outsiders get EACCES, members in. */
static void socket_only_for_group_kvmprof(void **state)
{
	static struct kpd d;	/* outlives a failed test: stop_all() */
	struct stat st;
	gid_t kg, none[1];

	memset(&d, 0, sizeof(d));

	ensure_kvmprof_user();
	kvmprof_uid(&kg);
	kg = getgrnam("kvmprof")->gr_gid;
	snprintf(d.dir, sizeof(d.dir), "/tmp/kvmprof-svc.XXXXXX");
	assert_non_null(mkdtemp(d.dir));
	chmod(d.dir, 0755); /* only the socket's own mode decides */
	assert_int_equal(svc_start(&d, NULL,
				   (const char *const[]){ "--metrics-listen",
							  "off", NULL },
				   NULL, NULL),
			 0);
	assert_int_equal(stat(d.sock, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0660);
	assert_int_equal(st.st_gid, kg);
	/* neither root nor in kvmprof: refused at connect() */
	assert_int_equal(connect_as(d.sock, none, 0), 101);
	/* in kvmprof: served */
	assert_int_equal(connect_as(d.sock, &kg, 1), 0);
	svc_stop(&d);
}

/*
 * In a private network namespace with a second address (a veth end,
 * 198.18.0.1), kvmprofd with the default configuration answers /metrics
 * on 127.0.0.1:19418 and not on 198.18.0.1:19418; told to listen on
 * 0.0.0.0 it answers there (the check can fail).
 */
static void metrics_port_loopback_only(void **state)
{
	pid_t pid = fork();

	if (pid == 0) {
		struct kpd d = {};
		char *body = NULL;
		long status = 0;
		int code = 0;

		if (unshare(CLONE_NEWNET) ||
		    system("ip link set lo up && ip link add kp0 type veth peer "
			   "name kp1 && ip addr add 198.18.0.1/24 dev kp0 && "
			   "ip link set kp0 up && ip link set kp1 up"))
			_exit(10);
		/* the defaults: no --metrics-listen, no configuration file */
		if (svc_start(&d, NULL,
			      (const char *const[]){ "--config",
						     "/dev/null/none", NULL },
			      NULL, NULL) == 0)
			_exit(11); /* a missing named file must fail */
		d.dir[0] = '\0';
		if (svc_start(&d, NULL, NULL, NULL, NULL))
			_exit(12);
		if (http_get("127.0.0.1:19418", "/metrics", &body, &status) ||
		    status != 200 || !strstr(body, "# TYPE kvmprof_vm_info"))
			code = 13;
		free(body);
		if (!code && tcp_connect("198.18.0.1", 19418) != -ECONNREFUSED)
			code = 14;
		svc_stop(&d);
		if (code)
			_exit(code);
		if (svc_start(&d, NULL,
			      (const char *const[]){ "--metrics-listen",
						     "0.0.0.0:19418", NULL },
			      NULL, NULL))
			_exit(15);
		if (tcp_connect("198.18.0.1", 19418))
			code = 16;
		svc_stop(&d);
		_exit(code);
	}
	assert_int_equal(wait_exit(pid), 0);
}

/* After the drop: no capability this kernel does not need for the BPF fds,
 * nothing in the other sets, NO_NEW_PRIVS; CAP_SYS_PTRACE permitted but not
 * effective for kvm-stats (pidfd_getfd), not even that with
 * --no-kvm-stats; with --user, that user and no supplementary groups;
 * still exact counts. */
static void privileges_after_drop(void **state)
{
	static struct kpd d;	/* outlives a failed test: stop_all() */
	long long want = kernel_wants_cap_bpf() ? 1ll << 39 : 0;
	gid_t gid;
	uid_t uid;
	char name[64], rep[160];
	cJSON *vm, *r;
	int rc;

	memset(&d, 0, sizeof(d));

	ensure_kvmprof_user();
	uid = kvmprof_uid(&gid);
	/* by default: uid 0, no capabilities */
	assert_int_equal(svc_start(&d, NULL,
				   (const char *const[]){ "--metrics-listen",
							  "off", NULL },
				   NULL, NULL),
			 0);
	assert_int_equal(status_field(d.pid, "Uid", 10), 0);
	assert_int_equal(status_field(d.pid, "CapEff", 16), want);
	assert_int_equal(status_field(d.pid, "CapPrm", 16),
			 want | 1ll << 19 /* CAP_SYS_PTRACE */);
	assert_int_equal(status_field(d.pid, "CapBnd", 16), 0);
	assert_int_equal(status_field(d.pid, "NoNewPrivs", 10), 1);
	svc_stop(&d);
	/* --user kvmprof: that user too */
	memset(&d, 0, sizeof(d));
	assert_int_equal(svc_start(&d, NULL,
				   (const char *const[]){
					   "--metrics-listen", "off", "--user",
					   "kvmprof", "--no-kvm-stats", NULL },
				   NULL, NULL),
			 0);
	assert_int_equal(status_field(d.pid, "Uid", 10), uid);
	assert_int_equal(status_field(d.pid, "Gid", 10), gid);
	assert_int_equal(status_field(d.pid, "CapEff", 16), want);
	assert_int_equal(status_field(d.pid, "CapPrm", 16), want);
	assert_int_equal(status_field(d.pid, "CapInh", 16), 0);
	assert_int_equal(status_field(d.pid, "CapAmb", 16), 0);
	assert_int_equal(status_field(d.pid, "CapBnd", 16), 0);
	assert_int_equal(status_field(d.pid, "NoNewPrivs", 10), 1);
	/* no supplementary groups */
	{
		char path[64], *t, *p;

		snprintf(path, sizeof(path), "/proc/%d/status", (int)d.pid);
		t = read_file(path);
		p = strstr(t, "\nGroups:");
		assert_non_null(p);
		p += 8;
		while (*p == ' ' || *p == '\t')
			p++;
		assert_true(*p == '\n');
		free(t);
	}
	/* and it still counts */
	snprintf(name, sizeof(name), "svc-priv-%d", getpid());
	snprintf(rep, sizeof(rep), "%s/priv.json", d.dir);
	assert_int_equal(wait_exit(start_guest(name, rep)), 0);
	r = read_json_file(rep);
	assert_non_null(r);
	wait_exited(&d, name);
	vm = cli_json(&d, &rc, "show", name);
	assert_int_equal(rc, 0);
	assert_int_equal(jnum(vm, "pio"), PIO);
	assert_int_equal(jnum(vm, "userspace_exits"),
			 jnum(cJSON_GetArrayItem(jget(r, "vcpus"), 0),
			      "kvm_run") +
				 jnum(cJSON_GetArrayItem(jget(r, "vcpus"), 1),
				      "kvm_run"));
	cJSON_Delete(vm);
	cJSON_Delete(r);
	svc_stop(&d);
}

/*
 * The daemon inside its unit's identity, capabilities and system call
 * filter (tests/service/unit-exec.c applies them like systemd): every
 * probe whose tracepoint exists attaches, BPF stats are on, counts are
 * exact, and the drop leaves nothing.
 */
static void runs_inside_the_unit_sandbox(void **state)
{
	static struct kpd d;	/* outlives a failed test: stop_all() */
	char wrapper[256], name[64], rep[160];
	const char *const wr[] = { bin_path("tests/unit-exec", wrapper,
					    sizeof(wrapper)),
				   UNIT, "--", NULL };
	uid_t uid;
	gid_t gid;
	cJSON *st, *vm, *r;
	const cJSON *p;
	int rc;

	memset(&d, 0, sizeof(d));

	ensure_kvmprof_user();
	uid = kvmprof_uid(&gid);
	/* like RuntimeDirectory=kvmprof: owned by the service user, 0750 */
	snprintf(d.dir, sizeof(d.dir), "/tmp/kvmprof-svc.XXXXXX");
	assert_non_null(mkdtemp(d.dir));
	assert_int_equal(chown(d.dir, uid, gid), 0);
	chmod(d.dir, 0750);
	assert_int_equal(svc_start(&d, wr,
				   (const char *const[]){ "--metrics-listen",
							  "127.0.0.1:0", NULL },
				   NULL, NULL),
			 0);
	assert_int_equal(status_field(d.pid, "Uid", 10), uid);
	assert_int_equal(status_field(d.pid, "Seccomp", 10), 2);
	assert_int_equal(status_field(d.pid, "NoNewPrivs", 10), 1);
	assert_int_equal(status_field(d.pid, "CapEff", 16),
			 kernel_wants_cap_bpf() ? 1ll << 39 : 0);
	assert_int_equal(status_field(d.pid, "CapAmb", 16), 0);
	st = kpd_get(&d, "/v1/status");
	assert_non_null(st);
	/* bpf-stats is off by default: no BPF run-time stats */
	assert_false(cJSON_IsTrue(jget(st, "bpf_stats")));
	cJSON_ArrayForEach(p, jget(st, "probes")) {
		char tp[256];
		const char *n = jget(p, "name")->valuestring;

		snprintf(tp, sizeof(tp), "/sys/kernel/tracing/events/kvm/%s",
			 n);
		if (!access(tp, F_OK) &&
		    strcmp(jget(p, "state")->valuestring, "attached"))
			fail_msg("probe %s not attached in the sandbox: %s", n,
				 cJSON_IsString(jget(p, "reason")) ?
					 jget(p, "reason")->valuestring :
					 "");
	}
	cJSON_Delete(st);
	snprintf(name, sizeof(name), "svc-unit-%d", getpid());
	snprintf(rep, sizeof(rep), "/tmp/kvmprof-svc-unit-%d.json", getpid());
	assert_int_equal(wait_exit(start_guest(name, rep)), 0);
	r = read_json_file(rep);
	unlink(rep);
	assert_non_null(r);
	wait_exited(&d, name);
	vm = cli_json(&d, &rc, "show", name);
	assert_int_equal(rc, 0);
	assert_int_equal(jnum(vm, "pio"), PIO);
	assert_int_equal(jnum(vm, "mmio_write"), MMIO_W);
	cJSON_Delete(vm);
	cJSON_Delete(r);
	svc_stop(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(socket_only_for_group_kvmprof),
		cmocka_unit_test(metrics_port_loopback_only),
		cmocka_unit_test(privileges_after_drop),
		cmocka_unit_test(runs_inside_the_unit_sandbox),
	};
	int r = svc_begin();

	if (r)
		return r;
	if (access(UNIT, R_OK)) {
		fprintf(stderr, "SKIP: run from the source tree (%s)\n", UNIT);
		return SKIP_EXIT;
	}
	return svc_end(
		cmocka_run_group_tests_name("privileges", tests, NULL, NULL));
}

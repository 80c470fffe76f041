// SPDX-License-Identifier: GPL-2.0-only
/* /proc parsing against a real child whose comm contains ") (". */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include <kvmprof/procfs.h>

static void tricky_comm_and_liveness(void **state)
{
	int p[2];
	char c, comm[32];
	uint64_t ticks, ticks_self;
	pid_t pid;

	assert_int_equal(pipe(p), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		prctl(PR_SET_NAME, "a) (b 7 x", 0, 0, 0);
		(void)!write(p[1], "x", 1);
		pause();
		_exit(0);
	}
	assert_int_equal(read(p[0], &c, 1), 1);
	assert_int_equal(kp_proc_stat(pid, &ticks, comm, sizeof(comm)), 0);
	assert_string_equal(comm, "a) (b 7 x");
	/* a child cannot have started before its parent */
	assert_int_equal(kp_proc_stat(getpid(), &ticks_self, NULL, 0), 0);
	assert_true(ticks >= ticks_self);
	/* liveness: exact start matches, another start does not */
	assert_int_equal(kp_proc_alive(pid, ticks * (1000000000ull /
						      (uint64_t)sysconf(_SC_CLK_TCK))), 1);
	assert_int_equal(kp_proc_alive(pid, (ticks + 5) * (1000000000ull /
							    (uint64_t)sysconf(_SC_CLK_TCK))), 0);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	assert_int_equal(kp_proc_alive(pid, 0), 0);
	assert_int_equal(kp_proc_stat(pid, &ticks, NULL, 0), -ENOENT);
	close(p[0]);
	close(p[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(tricky_comm_and_liveness),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

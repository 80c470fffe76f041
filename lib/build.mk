# Code shared by the daemon, the CLI and the tests.
KP_LIB_SRCS := lib/procfs.c lib/vmname.c lib/kvmnames.c lib/events.c \
	lib/json.c lib/kvmstats.c
# The API client: its transport-independent part, and libcurl's transport
# (kvmprof loads the latter from kvmprof-client.so: cli/build.mk).
KP_CLIENT_SRCS := lib/client.c lib/client_curl.c

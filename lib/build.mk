# Code shared by the daemon, the CLI and the tests.
KP_LIB_SRCS := lib/procfs.c lib/vmname.c lib/kvmnames.c lib/events.c \
	lib/json.c lib/kvmstats.c
KP_CLIENT_SRCS := lib/client.c

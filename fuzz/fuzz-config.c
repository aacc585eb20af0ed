/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fuzz-config: the config parser. The input is the file: written to a memfd
 * and loaded through /proc/self/fd/N, as ksallocd loads /etc/ksallocd/ksallocd.conf.
 *
 * A refused file must come with the one-line message config.h promises,
 * starting with the path; an accepted one must hold what the daemon relies on
 * (every pool named and framed validly, limits in their ranges).
 */
#include <errno.h>
#include <sys/mman.h>

#include "daemon/config.h"
#include "fuzz/fuzz.h"
#include "shm/layout.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_keep_stderr();
	return 0;
}

static void check_accepted(const struct daemon_config *cfg)
{
	fuzz_check(cfg->socket_path && cfg->socket_path[0] == '/', "socket path not absolute");
	fuzz_check(cfg->max_message_size >= 4096 && cfg->max_message_size <= 1048576,
		   "max_message_size %u out of range", cfg->max_message_size);
	fuzz_check(cfg->max_sessions >= 1, "max_sessions 0");
	fuzz_check(cfg->max_pool_sessions >= 1 &&
			   cfg->max_pool_sessions <= CONFIG_POOL_SESSIONS_MAX,
		   "max_pool_sessions %u out of range", cfg->max_pool_sessions);
	fuzz_check(cfg->limits.max_pool_frames >= 1 && cfg->limits.max_frame_size >= 1,
		   "a framing limit is 0");
	fuzz_check(cfg->max_sessions_per_uid >= 1 && cfg->max_sessions_per_uid <= 1000000,
		   "max_sessions_per_uid %u out of range", cfg->max_sessions_per_uid);
	fuzz_check(cfg->max_pool_bytes_per_uid <= UINT64_C(1) << 62,
		   "max_pool_bytes_per_uid %llu out of range",
		   (unsigned long long)cfg->max_pool_bytes_per_uid);
	fuzz_check(cfg->created_pool_mode <= ACCESS_MODE_MASK, "created_pool_mode %o",
		   cfg->created_pool_mode);
	fuzz_check(cfg->n_pools == 0 || cfg->pools, "pools missing");
	for (size_t i = 0; i < cfg->n_pools; i++) {
		const struct pool_config *pc = &cfg->pools[i];
		const char *reason = NULL;

		fuzz_check(memchr(pc->name, 0, sizeof(pc->name)), "pool %zu: name not terminated",
			   i);
		fuzz_check(!shm_name_problem(pc->name), "pool %s: %s", pc->name,
			   shm_name_problem(pc->name));
		fuzz_check(framing_validate(&pc->framing, &cfg->limits, NULL, &reason) == 0,
			   "pool %s accepted with a bad framing: %s", pc->name, reason);
		fuzz_check(pc->access.mode <= ACCESS_MODE_MASK, "pool %s: mode %o", pc->name,
			   pc->access.mode);
		fuzz_check(memchr(pc->backend, 0, sizeof(pc->backend)), "pool %s: backend",
			   pc->name);
		for (size_t j = 0; j < i; j++)
			fuzz_check(strcmp(cfg->pools[j].name, pc->name) != 0, "pool %s twice",
				   pc->name);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int lowest_fd = fuzz_lowest_free_fd();
	struct daemon_config *cfg = NULL;
	char path[64], *error = NULL;
	size_t done = 0;
	int fd, r;

	fd = memfd_create("fuzz-config", MFD_CLOEXEC);
	fuzz_check(fd >= 0, "memfd_create: %m");
	while (done < size) {
		ssize_t n = write(fd, data + done, size - done);

		fuzz_check(n > 0, "write to memfd: %m");
		done += (size_t)n;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);

	r = config_load(path, &cfg, &error);
	if (r == 0) {
		fuzz_check(cfg, "accepted without a config");
		fuzz_check(!error, "accepted with an error message: %s", error);
		check_accepted(cfg);
		config_free(cfg);
	} else {
		fuzz_check(r < 0, "config_load returned %d", r);
		fuzz_check(!cfg, "refused, yet *ret_config was set");
		/* Only an allocation failure may leave the message out. */
		fuzz_check(error || r == -ENOMEM, "refused (%d) without a message", r);
		if (error) {
			fuzz_check(strncmp(error, path, strlen(path)) == 0,
				   "message does not start with the path: %s", error);
			fuzz_check(!strchr(error, '\n') && !strchr(error, '\r'),
				   "message is not one line: %s", error);
			for (const char *c = error; *c; c++)
				fuzz_check((unsigned char)*c >= 0x20 && *c != 0x7f,
					   "control character 0x%02x in the message: %s",
					   (unsigned char)*c, error);
			free(error);
		}
	}
	close(fd);
	fuzz_check(fuzz_lowest_free_fd() == lowest_fd, "an fd leaked");
	return 0;
}

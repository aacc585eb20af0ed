/* SPDX-License-Identifier: MIT */
/*
 * pool-client: the pool user of scripts/test-system's scenarios, run in its
 * guest against the packaged libksalloc.so.1.
 *
 *   pool-client open POOL      opens POOL, acquires a frame, writes it, releases
 *                              it; prints what the pool is, or why it cannot
 *   pool-client hold POOL N    opens POOL and holds N frames, each filled with a
 *                              pattern of its own; prints "holding N", then waits
 *                              until stdin ends (the daemon may restart meanwhile),
 *                              checks the pattern, asks the daemon for the pool's
 *                              status and releases every frame
 *
 * Exit status: 0 when all of that worked, 1 otherwise (with the reason on stderr),
 * 2 on a usage error.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ksalloc/ksalloc.h>

#define HOLD_MAX 64

static uint8_t pattern(uint32_t frame, uint32_t i)
{
	return (uint8_t)(frame * 131 + i * 7 + 1);
}

static void fill(const struct ksalloc_frame *f, uint32_t n)
{
	uint8_t *data = f->data;

	for (uint32_t i = 0; i < f->size; i++)
		data[i] = pattern(n, i);
}

static int check(const struct ksalloc_frame *f, uint32_t n)
{
	const uint8_t *data = f->data;

	for (uint32_t i = 0; i < f->size; i++)
		if (data[i] != pattern(n, i)) {
			fprintf(stderr, "frame %u (index %u): byte %u changed while held\n", n,
				f->index, i);
			return -1;
		}
	return 0;
}

int main(int argc, char **argv)
{
	struct ksalloc_frame frames[HOLD_MAX];
	struct ksalloc_client *client = NULL;
	struct ksalloc_pool *pool = NULL;
	const struct ksalloc_pool_info *info;
	struct ksalloc_status status;
	unsigned long want = 1;
	uint32_t held = 0;
	bool hold;
	char buf[64];
	int r, ret = 1;

	if (argc < 3 || (strcmp(argv[1], "open") != 0 && strcmp(argv[1], "hold") != 0) ||
	    (strcmp(argv[1], "hold") == 0) != (argc == 4)) {
		fprintf(stderr, "usage: %s open POOL | hold POOL N\n", argv[0]);
		return 2;
	}
	hold = strcmp(argv[1], "hold") == 0;
	if (hold) {
		want = strtoul(argv[3], NULL, 10);
		if (want == 0 || want > HOLD_MAX) {
			fprintf(stderr, "hold: N is 1 to %d\n", HOLD_MAX);
			return 2;
		}
	}
	r = ksalloc_client_open(NULL, &client);
	if (r < 0) {
		fprintf(stderr, "cannot reach ksallocd: %s\n", ksalloc_client_open_error());
		return 1;
	}
	r = ksalloc_pool_open(client, argv[2], &pool);
	if (r < 0) {
		fprintf(stderr, "pool %s: %s\n", argv[2], ksalloc_client_error(client));
		goto out;
	}
	info = ksalloc_pool_get_info(pool);
	for (held = 0; held < want; held++) {
		r = ksalloc_pool_acquire(pool, 2000, &frames[held]);
		if (r < 0) {
			fprintf(stderr, "pool %s: cannot acquire frame %u: %s\n", argv[2], held,
				strerror(-r));
			goto out;
		}
		fill(&frames[held], held);
	}
	printf("pool %s: backend %s, %u frames of %u bytes, %s; %s %u\n", info->name, info->backend,
	       info->status.framing.frames, info->status.framing.frame_size,
	       info->locked ? "locked" : "not locked", hold ? "holding" : "acquired", held);
	fflush(stdout);
	if (hold)
		while (fgets(buf, sizeof(buf), stdin))
			;
	for (uint32_t i = 0; i < held; i++)
		if (check(&frames[i], i) < 0)
			goto out;
	r = ksalloc_pool_status(pool, &status);
	if (r < 0) {
		fprintf(stderr, "pool %s: no status: %s\n", argv[2], ksalloc_client_error(client));
		goto out;
	}
	if (status.allocated_frames < held) {
		fprintf(stderr, "pool %s: the daemon counts %u frames out, this client holds %u\n",
			argv[2], status.allocated_frames, held);
		goto out;
	}
	printf("pool %s: %u frames intact, the daemon counts %u out\n", argv[2], held,
	       status.allocated_frames);
	ret = 0;
out:
	while (held > 0) {
		held--;
		r = ksalloc_pool_release(pool, &frames[held]);
		if (r < 0) {
			fprintf(stderr, "pool %s: cannot release frame %u: %s\n", argv[2], held,
				strerror(-r));
			ret = 1;
		}
	}
	if (ret == 0 && hold)
		printf("pool %s: released them all\n", argv[2]);
	ksalloc_pool_close(pool);
	ksalloc_client_close(client);
	return ret;
}

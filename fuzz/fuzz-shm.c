/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fuzz-shm: the daemon's reading of a pool's shared control block, which any
 * client that opened the pool can overwrite (docs/architecture.md: "The daemon
 * never trusts what it reads back from shared memory").
 *
 * Input:
 *   0       frames - 1 (mod 32)
 *   1..2    frame_size - 1 (little endian, mod 16384)
 *   3       bits 0-3: log2 of the alignment (at most 12), 4-5: OptionsFlags, 6: PoolType
 *   4       n_slots - 1 (mod 8)
 *   5       bits 0-1, 2-3: the two sessions that attach, minus one
 *   6..9    the session id a client uses on the scribbled block
 *   10      bits 0-2: frames that client acquires, bit 3: it releases them again
 *   11..    the control block: bytes 0 .. data_offset of the memfd, the input
 *           repeated to fill it (an empty rest leaves the daemon's own block)
 *
 * A real pool (memfd, mapped) is made, two sessions attach, the block is
 * overwritten, a client reads it as the client library does (shm_header_check,
 * then acquire and release through the layout it checked), and the daemon does
 * everything it does with a pool's block: stats, holds, detach (reclaim and the
 * orphan sweep), commit and decommit, free. None of it may crash, hang or
 * touch memory outside the mapping.
 */
#include <errno.h>
#include <stdbool.h>

#include "fuzz/fuzz.h"
#include "daemon/storage/pool.h"

static bool trace; /* $KSALLOC_FUZZ_TRACE: the block at each step on stderr */

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_keep_stderr();
	trace = getenv("KSALLOC_FUZZ_TRACE") != NULL;
	return 0;
}

/* What the daemon's view of the block is, to read a reproducer by. */
static void show(const struct pool *p, const char *when)
{
	const struct frame_pool *fp = &p->frames;

	if (!trace)
		return;
	fprintf(stderr, "%s: state %u waiters %u slots_used %u allocated %u\n", when,
		atomic_load(&fp->shared->state), atomic_load(&fp->shared->waiters),
		atomic_load(&fp->shared->slots_used), atomic_load(&fp->shared->allocated));
	for (uint32_t i = 0; i < p->layout.n_slots; i++)
		fprintf(stderr,
			"  slot %u: daemon's %u, tenant %u waiting %u, handed %u, ticket %u\n", i,
			p->slot_sessions[i], frame_slot_tenant(&fp->slots[i]),
			frame_slot_waiting(&fp->slots[i]), atomic_load(&fp->slots[i].handed),
			atomic_load(&fp->slots[i].wait_ticket));
	for (uint32_t i = 0; i < p->framing.frames; i++) {
		uint64_t owner = atomic_load(&fp->frames[i].owner);

		fprintf(stderr, "  frame %u: session %u generation 0x%08x\n", i,
			shm_owner_tenant(owner), shm_owner_generation(owner));
	}
}

/* What the client library does with a pool it maps: check, then use its own layout. */
static void client_uses(struct pool *p, uint32_t session, uint8_t ops)
{
	const struct shm_header *h = p->map;
	uint32_t n_acquire = ops & 7, index[8], generation[8], n = 0, hint = 0;
	const char *reason = NULL;
	struct frame_pool fp;
	struct shm_layout l;
	struct shm_slot *slot;

	if (shm_header_check(p->map, p->layout.size_bytes, &l, &reason) < 0) {
		fuzz_check(reason, "refused without a reason");
		return;
	}
	fuzz_check(l.size_bytes == p->layout.size_bytes, "checked layout of another size");
	fuzz_check(l.data_offset + (uint64_t)h->frames * l.frame_stride <= l.size_bytes,
		   "checked layout runs past the mapping");
	/* The client refuses a slot the layout has not (client/pool.c, pool_map()). */
	if (l.n_slots == 0)
		return;
	frame_pool_init(&fp, p->map, &l, h->frames);
	slot = &fp.slots[session % l.n_slots];

	for (uint32_t i = 0; i < n_acquire; i++) {
		if (frame_try_acquire(&fp, session, slot, &hint, &index[n], &generation[n]) < 0)
			break;
		fuzz_check(index[n] < fp.n_frames &&
				   l.data_offset + index[n] * l.frame_stride + h->frame_size <=
					   l.size_bytes,
			   "acquired frame %u of %u, past the mapping", index[n], fp.n_frames);
		/* The client writes its frame (ASan does not watch a mapping: checked above). */
		memset(frame_data(&fp, index[n]), 0xa5, h->frame_size);
		n++;
	}
	/* No wait: a timeout of 0 returns at once. */
	if (frame_acquire(&fp, session, slot, &hint, 0, &index[n], &generation[n]) == 0)
		n++;
	if (ops & 8) {
		for (uint32_t i = 0; i < n; i++)
			(void)frame_release(&fp, session, index[i], generation[i]);
	}
	/* A stale or made-up handle is refused, never a crash. */
	(void)frame_release(&fp, session, session % (fp.n_frames + 1), session >> 1);
}

/* What the daemon reads back from the block, with the answers it must stay within. */
static void daemon_reads(struct pool *p)
{
	uint32_t n_slots = p->layout.n_slots, held[8], total = 0;
	uint64_t oldest[8];
	struct pool_stats st;

	pool_get_stats(p, &st);
	fuzz_check(st.allocated <= p->framing.frames, "allocated %u of %u frames", st.allocated,
		   p->framing.frames);
	fuzz_check(st.peak <= p->framing.frames, "peak %u of %u frames", st.peak,
		   p->framing.frames);
	fuzz_check(pool_allocated_frames(p) == st.allocated, "two counts of allocated frames");
	fuzz_check(frame_count_owned(&p->frames) == st.allocated, "frame_count_owned differs");
	pool_count_holds(p, held, oldest);
	for (uint32_t i = 0; i < n_slots; i++)
		total += held[i];
	fuzz_check(total <= st.allocated, "%u frames held of %u allocated", total, st.allocated);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_reader in = { data, size };
	int lowest_fd = fuzz_lowest_free_fd();
	struct pool_options o = {
		.name = "fuzz",
		.backend = "memfd",
		.persistent = true,
		.access = { .mode = 0660 },
	};
	uint32_t sessions[2], slots[2], client_session;
	uint8_t shape, who, ops;
	const uint8_t *image;
	size_t image_len;
	struct pool *p;
	int r;

	o.framing.frames = 1 + fuzz_u8(&in) % 32;
	o.framing.frame_size = 1 + fuzz_u16(&in) % 16384;
	shape = fuzz_u8(&in);
	o.framing.file_alignment = (1u << ((shape & 15) > 12 ? 12 : (shape & 15))) - 1;
	o.framing.options_flags = (shape >> 4) & 3;
	o.framing.pool_type = (shape >> 6) & 1;
	o.n_slots = 1 + fuzz_u8(&in) % 8;
	who = fuzz_u8(&in);
	sessions[0] = 1 + (who & 3);
	sessions[1] = 1 + ((who >> 2) & 3);
	client_session = fuzz_u32(&in);
	ops = fuzz_u8(&in);
	image = fuzz_bytes(&in, fuzz_left(&in), &image_len);

	r = pool_new(1, &o, &p);
	fuzz_check(r == 0, "pool_new: %s", strerror(-r));
	for (int i = 0; i < 2; i++) {
		r = pool_attach(p, sessions[i], &slots[i]);
		/* With one slot, a second session finds it taken. */
		fuzz_check(r == 0 || (r == -EUSERS && o.n_slots == 1), "pool_attach: %s",
			   strerror(-r));
		if (r < 0)
			slots[i] = UINT32_MAX;
	}

	/* The scribbler: every byte of the control block, as a client can write them. */
	if (image_len > 0) {
		uint8_t *block = p->map;

		for (uint64_t off = 0; off < p->layout.data_offset; off += image_len)
			memcpy(block + off, image,
			       p->layout.data_offset - off < image_len ?
				       p->layout.data_offset - off :
				       image_len);
	}

	show(p, "scribbled");
	client_uses(p, client_session, ops);
	show(p, "after the client");

	daemon_reads(p);
	for (int i = 0; i < 2; i++) {
		uint32_t reclaimed = pool_detach(p, slots[i]);

		if (trace)
			fprintf(stderr, "detached slot %u: %u frames reclaimed\n", slots[i],
				reclaimed);
		show(p, "after detach");

		fuzz_check(reclaimed <= p->framing.frames, "reclaimed %u of %u frames", reclaimed,
			   p->framing.frames);
		daemon_reads(p);
	}
	fuzz_check(p->n_attached == 0, "%u sessions still attached", p->n_attached);
	/* Nobody has the pool open now: every frame came back, whatever the block said. */
	fuzz_check(pool_allocated_frames(p) == 0, "%u frames owned after every detach",
		   pool_allocated_frames(p));
	pool_set_committed(p, false);
	pool_set_committed(p, true);
	daemon_reads(p);
	pool_free(p);
	fuzz_check(fuzz_lowest_free_fd() == lowest_fd, "an fd leaked");
	return 0;
}

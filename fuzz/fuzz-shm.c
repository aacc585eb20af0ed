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
 *   10      bits 0-2: frames that client acquires, bit 3: it releases them again,
 *           bit 7: a stream on the pool instead (below)
 *   11..    the control block: bytes 0 .. data_offset of the memfd, the input
 *           repeated to fill it (an empty rest leaves the daemon's own block)
 *
 * A real pool (memfd, mapped) is made, two sessions attach, the block is
 * overwritten, a client reads it as the client library does (shm_header_check,
 * then acquire and release through the layout it checked), and the daemon does
 * everything it does with a pool's block: stats, holds, detach (reclaim and the
 * orphan sweep), commit and decommit, free. None of it may crash, hang or
 * touch memory outside the mapping.
 *
 * Streams (byte 10, bit 7): the pool, through the daemon's storage, gets a
 * stream (shm/stream.h) with session 1 + (byte 5 & 3) as its producer and
 * 1 + (byte 5 >> 4 & 3) consumers, whose policy, depth and max_held are
 * bytes 6..9 (one each: policy = b & 3, depth = 1 + (b >> 2 & 7), max_held =
 * 1 + (b >> 5)); a second pool, whose frames a session holds, stands beside
 * it. The rest is a script, one op after another (STREAM_OPS at most):
 *   op % 16 = 0   scribble: u16 offset (mod the stream's size), u8 n, n bytes
 *             1   scribble a word: u8 region (header, shared, consumer, ring,
 *                 refs, meta, format), u8 consumer, u16 word in it, u32 value
 *             2   the producer acquires a frame and publishes it (timeout 0),
 *                 u8 data_used; op bit 4: a made-up frame (u8 index, u32 generation)
 *             3   consumer u8 % STREAM_SLOTS receives (timeout 0); op bit 4: as
 *                 a tenant it is not (u32)
 *             4   a release: u8 picks a received frame; past them, a made-up
 *                 one (u8 slot, u8 index, u32 generation)
 *             5   the daemon detaches consumer u8 % STREAM_SLOTS
 *             6   the daemon attaches a consumer: u8 as bytes 6..9
 *             7   the producer goes (the daemon's stream_producer_gone())
 *             8   the producer comes back (a new epoch)
 *             9   stream_restore() with the daemon's records
 *             10  what the daemon reads for ksallocctl streams, and the
 *                 format (u16 buffer size)
 *             11  the producer sets the format: u16 size, bytes (the input's)
 *             12  the producer ends the stream
 *             13  stream_wake_all(), stream_consumer_ready() for each slot
 *             14  the client's check of the stream's header
 *             15  the daemon drops the stream and makes it again
 * after each op the second pool is byte for byte as it was; at the end the
 * consumers and the producer go, the stream is dropped, and every frame of
 * the pool is free again.
 */
#include <errno.h>
#include <stdbool.h>

#include "fuzz/fuzz.h"
#include "daemon/storage/pool.h"
#include "daemon/storage/storage.h"
#include "daemon/storage/stream.h"

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

/* ---- streams ---- */

#define STREAM_SLOTS 4u /* consumer slots a script uses */
#define STREAM_OPS 512u
#define STREAM_HELD 16u

struct stream_held {
	uint32_t slot, index, generation;
};

struct stream_run {
	struct storage *storage;
	struct pool *p, *other;
	struct stream *st;
	struct pool_access access;
	uint32_t producer, producer_slot, hint, next_session;
	uint8_t *other_copy; /* the second pool's memory, as it must stay */
	struct stream_held held[STREAM_HELD];
	uint32_t n_held;
	uint32_t seen_epoch[SHM_STREAM_CONSUMERS];
	uint8_t format[SHM_STREAM_FORMAT_MAX + 16];
};

static void stream_consumer_shape(uint8_t b, uint32_t *policy, uint32_t *depth, uint32_t *max_held)
{
	*policy = b & 3;
	*depth = 1 + ((b >> 2) & 7);
	*max_held = 1 + (b >> 5);
}

static void stream_add(struct stream_run *sr, uint8_t shape)
{
	uint32_t policy, depth, max_held, slot;

	if (sr->st->n_consumers >= STREAM_SLOTS)
		return;
	stream_consumer_shape(shape, &policy, &depth, &max_held);
	fuzz_check(stream_add_consumer(sr->st, sr->next_session++, policy, depth, max_held, false,
				       &slot) == 0 &&
			   slot < STREAM_SLOTS,
		   "stream_add_consumer");
	sr->seen_epoch[slot] = stream_consumer_epoch(&sr->st->sm);
}

/* The received frames of @slot are no longer its to release (detached). */
static void stream_forget(struct stream_run *sr, uint32_t slot)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < sr->n_held; i++)
		if (sr->held[i].slot != slot)
			sr->held[n++] = sr->held[i];
	sr->n_held = n;
}

static void stream_make(struct stream_run *sr)
{
	int r = storage_add_stream(sr->storage, "fuzz", sr->p, &sr->access, false, &sr->st);

	fuzz_check(r == 0, "storage_add_stream: %s", strerror(-r));
	fuzz_check(stream_set_producer(sr->st, sr->producer) == 0, "stream_set_producer");
	sr->n_held = 0;
}

static void stream_drop(struct stream_run *sr)
{
	for (uint32_t c = 0; c < SHM_STREAM_CONSUMERS; c++)
		(void)stream_remove_consumer(sr->st, c);
	if (sr->st->producer)
		(void)stream_drop_producer(sr->st);
	storage_remove_stream(sr->storage, sr->st);
	sr->st = NULL;
	sr->n_held = 0;
}

/* A word of the stream's memory, in region @region (of consumer @c where it has one). */
static _Atomic uint32_t *stream_word(struct stream_run *sr, uint8_t region, uint8_t c, uint16_t w)
{
	const struct shm_stream_layout *l = &sr->st->layout;
	uint64_t base, len;

	c %= SHM_STREAM_CONSUMERS;
	switch (region % 7) {
	case 0:
		base = 0, len = sizeof(struct shm_stream_header);
		break;
	case 1:
		base = SHM_STREAM_SHARED_OFFSET, len = sizeof(struct shm_stream_shared);
		break;
	case 2:
		base = l->consumers_offset + c * sizeof(struct shm_stream_consumer);
		len = sizeof(struct shm_stream_consumer);
		break;
	case 3:
		base = l->rings_offset + c * SHM_STREAM_RING * sizeof(uint64_t);
		len = SHM_STREAM_RING * sizeof(uint64_t);
		break;
	case 4:
		base = l->refs_offset, len = (uint64_t)l->pool_frames * sizeof(uint64_t);
		break;
	case 5:
		base = l->meta_offset,
		len = (uint64_t)l->pool_frames * sizeof(struct shm_stream_meta);
		break;
	default:
		base = l->format_offset, len = SHM_STREAM_FORMAT_MAX;
		break;
	}
	return (_Atomic uint32_t *)((uint8_t *)sr->st->map + base + (w * 4u) % len);
}

static void stream_op(struct stream_run *sr, struct fuzz_reader *in)
{
	struct stream_map *sm = &sr->st->sm;
	uint8_t op = fuzz_u8(in);
	uint32_t n_frames = sr->p->framing.frames;
	int r;

	switch (op % 16) {
	case 0: {
		uint64_t off = fuzz_u16(in) % sr->st->layout.size_bytes;
		size_t n;
		const uint8_t *b = fuzz_bytes(in, fuzz_u8(in), &n);

		if (n > sr->st->layout.size_bytes - off)
			n = sr->st->layout.size_bytes - off;
		memcpy((uint8_t *)sr->st->map + off, b, n);
		break;
	}
	case 1: {
		uint8_t region = fuzz_u8(in), c = fuzz_u8(in);
		uint16_t w = fuzz_u16(in);

		atomic_store(stream_word(sr, region, c, w), fuzz_u32(in));
		break;
	}
	case 2: {
		struct shm_stream_meta meta = { .data_used = fuzz_u8(in) };
		struct stream_publish pub = { .timeout_ms = 0 };
		bool made_up = op & 16;

		if (made_up) {
			pub.index = fuzz_u8(in);
			pub.generation = fuzz_u32(in);
		} else if (frame_try_acquire(&sr->p->frames, sr->producer,
					     &sr->p->frames.slots[sr->producer_slot], &sr->hint,
					     &pub.index, &pub.generation) < 0) {
			break;
		}
		r = stream_publish(sm, sr->producer, &pub, &meta);
		fuzz_check(r <= (int)SHM_STREAM_CONSUMERS, "published to %d consumers", r);
		/* As the library does: a frame not published is still the producer's. */
		if (r < 0 && !made_up)
			(void)frame_release(&sr->p->frames, sr->producer, pub.index,
					    pub.generation);
		break;
	}
	case 3: {
		uint32_t slot = fuzz_u8(in) % STREAM_SLOTS, tenant = sr->st->consumers[slot];
		struct stream_received rx;

		if (op & 16)
			tenant = fuzz_u32(in);
		r = stream_receive(sm, slot, tenant, 0, NULL, &sr->seen_epoch[slot], &rx);
		if (r < 0)
			break;
		fuzz_check(rx.index < n_frames, "received frame %u of %u", rx.index, n_frames);
		fuzz_check(rx.generation <= SHM_GENERATION_MASK, "received generation 0x%x",
			   rx.generation);
		if (sr->n_held < STREAM_HELD)
			sr->held[sr->n_held++] =
				(struct stream_held){ slot, rx.index, rx.generation };
		else
			(void)stream_release(sm, slot, rx.index, rx.generation);
		break;
	}
	case 4: {
		uint32_t k = fuzz_u8(in) % (sr->n_held + 1), slot, index, generation;

		if (k < sr->n_held) {
			slot = sr->held[k].slot;
			index = sr->held[k].index;
			generation = sr->held[k].generation;
			sr->held[k] = sr->held[--sr->n_held];
		} else {
			slot = fuzz_u8(in);
			index = fuzz_u8(in);
			generation = fuzz_u32(in);
		}
		r = stream_release(sm, slot, index, generation);
		fuzz_check(r == 0 || r == -EINVAL || r == -ESTALE || r == -EALREADY,
			   "stream_release: %d", r);
		break;
	}
	case 5: {
		uint32_t slot = fuzz_u8(in) % STREAM_SLOTS;

		fuzz_check(stream_remove_consumer(sr->st, slot) <= n_frames,
			   "detach freed more frames than the pool has");
		stream_forget(sr, slot);
		break;
	}
	case 6:
		stream_add(sr, fuzz_u8(in));
		break;
	case 7:
		if (sr->st->producer)
			fuzz_check(stream_drop_producer(sr->st) <= n_frames,
				   "producer gone freed more frames than the pool has");
		break;
	case 8:
		if (!sr->st->producer)
			fuzz_check(stream_set_producer(sr->st, sr->producer) == 0,
				   "stream_set_producer");
		break;
	case 9:
		stream_restore(sm, sr->st->producer, sr->st->consumers);
		break;
	case 10: {
		uint32_t generation;
		size_t size = fuzz_u16(in) % sizeof(sr->format);

		for (uint32_t c = 0; c < SHM_STREAM_CONSUMERS; c++) {
			const struct shm_stream_consumer *sc = &sm->consumers[c];
			uint64_t total = 0;

			fuzz_check(stream_consumer_queued(sm, c) <= SHM_STREAM_RING,
				   "%u frames queued for consumer %u",
				   stream_consumer_queued(sm, c), c);
			(void)atomic_load(&sc->held);
			for (uint32_t b = 0; b < SHM_STREAM_LATENCY_BUCKETS; b++)
				total += atomic_load(&sc->latency[b]);
			(void)total;
		}
		(void)atomic_load(&sm->shared->published);
		(void)stream_consumer_epoch(sm);
		r = stream_get_format(sm, sr->format, size, &generation);
		fuzz_check(r == -EBADMSG || (r >= 0 && r <= (int)SHM_STREAM_FORMAT_MAX),
			   "stream_get_format: %d", r);
		break;
	}
	case 11: {
		size_t want = fuzz_u16(in) % sizeof(sr->format), n;
		const uint8_t *b = fuzz_bytes(in, want, &n);

		memcpy(sr->format, b, n);
		memset(sr->format + n, 0, want - n);
		r = stream_set_format(sm, sr->format, want);
		fuzz_check(want > SHM_STREAM_FORMAT_MAX ? r == -EMSGSIZE : r >= 0,
			   "stream_set_format(%zu): %d", want, r);
		break;
	}
	case 12:
		(void)stream_end(sm, sr->producer);
		break;
	case 13:
		stream_wake_all(sm);
		for (uint32_t c = 0; c < SHM_STREAM_CONSUMERS; c++)
			(void)stream_consumer_ready(sm, c, sr->seen_epoch[c]);
		break;
	case 14: {
		struct shm_stream_layout l;
		const char *reason = NULL;

		if (shm_stream_header_check(sr->st->map, sr->st->layout.size_bytes, sr->p->id,
					    n_frames, &l, &reason) < 0)
			fuzz_check(reason, "refused without a reason");
		else
			fuzz_check(l.size_bytes == sr->st->layout.size_bytes,
				   "checked layout of another size");
		break;
	}
	default:
		stream_drop(sr);
		stream_make(sr);
		break;
	}
}

static void stream_input(const struct pool_options *o, uint8_t who, uint32_t shapes,
			 struct fuzz_reader *in)
{
	struct pool_options other_o = {
		.name = "other",
		.backend = "memfd",
		.persistent = true,
		.framing = { .frames = 4, .frame_size = 64 },
		.n_slots = 2,
		.access = { .mode = 0660 },
	};
	struct stream_run sr = { .access = o->access,
				 .producer = 1 + (who & 3),
				 .next_session = 100 };
	uint32_t other_slot, index, generation, hint = 0;
	uint32_t n_consumers = 1 + ((who >> 4) & 3);
	int r;

	r = storage_new(&sr.storage);
	fuzz_check(r == 0, "storage_new: %s", strerror(-r));
	r = storage_add(sr.storage, o, &sr.p);
	fuzz_check(r == 0, "storage_add: %s", strerror(-r));
	r = storage_add(sr.storage, &other_o, &sr.other);
	fuzz_check(r == 0, "storage_add other: %s", strerror(-r));
	/* The second pool: session 50 holds two of its frames. */
	fuzz_check(pool_attach(sr.other, 50, &other_slot) == 0, "pool_attach other");
	for (int i = 0; i < 2; i++)
		fuzz_check(frame_try_acquire(&sr.other->frames, 50,
					     &sr.other->frames.slots[other_slot], &hint, &index,
					     &generation) == 0,
			   "acquire in the other pool");
	sr.other_copy = malloc(sr.other->layout.size_bytes);
	fuzz_check(sr.other_copy, "malloc");
	memcpy(sr.other_copy, sr.other->map, sr.other->layout.size_bytes);

	fuzz_check(pool_attach(sr.p, sr.producer, &sr.producer_slot) == 0, "pool_attach");
	stream_make(&sr);
	for (uint32_t i = 0; i < n_consumers; i++)
		stream_add(&sr, (uint8_t)(shapes >> (8 * i)));

	for (uint32_t i = 0; i < STREAM_OPS && fuzz_left(in) > 0; i++) {
		stream_op(&sr, in);
		fuzz_check(memcmp(sr.other->map, sr.other_copy, sr.other->layout.size_bytes) == 0,
			   "the other pool's memory changed");
		fuzz_check(frame_count_owned(&sr.p->frames) <= sr.p->framing.frames,
			   "more frames owned than the pool has");
	}

	/* Everyone goes: every frame of the pool is free again, whatever the stream said. */
	stream_drop(&sr);
	(void)pool_detach(sr.p, sr.producer_slot);
	(void)storage_sweep_stream_orphans(sr.storage, sr.p);
	fuzz_check(frame_count_owned(&sr.p->frames) == 0, "%u frames owned after everyone went",
		   frame_count_owned(&sr.p->frames));
	fuzz_check(pool_allocated_frames(sr.p) == 0, "%u frames allocated after everyone went",
		   pool_allocated_frames(sr.p));
	fuzz_check(memcmp(sr.other->map, sr.other_copy, sr.other->layout.size_bytes) == 0,
		   "the other pool's memory changed");
	free(sr.other_copy);
	storage_free(sr.storage);
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
	struct storage *storage;
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
	if (ops & 0x80) {
		stream_input(&o, who, client_session, &in);
		fuzz_check(fuzz_lowest_free_fd() == lowest_fd, "an fd leaked");
		return 0;
	}
	image = fuzz_bytes(&in, fuzz_left(&in), &image_len);

	/* Through the storage, as the daemon: it knows the streams (none here). */
	r = storage_new(&storage);
	fuzz_check(r == 0, "storage_new: %s", strerror(-r));
	r = storage_add(storage, &o, &p);
	fuzz_check(r == 0, "storage_add: %s", strerror(-r));
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
		/*
		 * As rpc_remove_session(): the pool's own sweep leaves frames owned
		 * by a stream's tenant (a scribbled owner word can name one) to the
		 * storage's.
		 */
		uint32_t reclaimed =
			pool_detach(p, slots[i]) + storage_sweep_stream_orphans(storage, p);

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
	storage_free(storage);
	fuzz_check(fuzz_lowest_free_fd() == lowest_fd, "an fd leaked");
	return 0;
}

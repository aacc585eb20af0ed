/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * shm/stream.c on a pool and a stream in shared anonymous memory: the rings,
 * the references, the policies, the end, the format, and the daemon's
 * repairs after a consumer or a producer dies at a bad moment. Threads stand
 * in for processes where one process is enough.
 */
#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "shm/stream.h"
#include "tests/lib/ksalloc-check.h"

#define PRODUCER 1u
#define STREAM_ID 7u

static struct {
	void *pool_map, *stream_map;
	struct shm_layout pool_layout;
	struct shm_stream_layout layout;
	struct frame_pool fp;
	struct stream_map sm;
	uint32_t hint;
} t;

static void setup(uint32_t frames)
{
	struct framing f = { .frames = frames, .frame_size = 64 };

	ck_assert_int_eq(shm_layout_compute(&f, 4, 0, UINT64_MAX, &t.pool_layout), 0);
	t.pool_map = mmap(NULL, t.pool_layout.size_bytes, PROT_READ | PROT_WRITE,
			  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ck_assert_ptr_ne(t.pool_map, MAP_FAILED);
	shm_header_write(t.pool_map, &t.pool_layout, 1, "pool", &f);
	frame_pool_init(&t.fp, t.pool_map, &t.pool_layout, frames);
	frame_slot_assign(&t.fp.slots[0], PRODUCER);
	atomic_store(&t.fp.shared->slots_used, 1);

	ck_assert_int_eq(shm_stream_layout_compute(frames, &t.layout), 0);
	t.stream_map = mmap(NULL, t.layout.size_bytes, PROT_READ | PROT_WRITE,
			    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ck_assert_ptr_ne(t.stream_map, MAP_FAILED);
	shm_stream_header_write(t.stream_map, &t.layout, STREAM_ID, "s", 1, "pool");
	stream_map_init(&t.sm, t.stream_map, &t.layout, STREAM_ID, &t.fp);
	stream_producer_attach(&t.sm, PRODUCER);
	t.hint = 0;
}

static void teardown(void)
{
	munmap(t.stream_map, t.layout.size_bytes);
	munmap(t.pool_map, t.pool_layout.size_bytes);
}

/* Consumer c is session 100 + c. */
static void attach(uint32_t c, uint32_t policy, uint32_t depth, uint32_t max_held)
{
	stream_consumer_attach(&t.sm, c, 100 + c, policy, depth, max_held);
}

static void acquire(uint32_t *index, uint32_t *generation)
{
	ck_assert_int_eq(
		frame_try_acquire(&t.fp, PRODUCER, &t.fp.slots[0], &t.hint, index, generation), 0);
}

/* Acquires a frame, writes @value into it and publishes it; returns consumers reached. */
static int publish(uint32_t value, uint32_t timeout_ms)
{
	struct shm_stream_meta meta = { .data_used = 4, .presentation_time = value };
	struct stream_publish p = { .timeout_ms = timeout_ms };
	int r;

	acquire(&p.index, &p.generation);
	memcpy(frame_data(&t.fp, p.index), &value, sizeof(value));
	r = stream_publish(&t.sm, PRODUCER, &p, &meta);
	if (r < 0)
		ck_assert_int_eq(frame_release(&t.fp, PRODUCER, p.index, p.generation), 0);
	return r;
}

static int receive(uint32_t c, uint32_t timeout_ms, struct stream_received *rx, uint32_t *epoch)
{
	return stream_receive(&t.sm, c, 100 + c, timeout_ms, NULL, epoch, rx);
}

static uint32_t value_of(const struct stream_received *rx)
{
	uint32_t v;

	memcpy(&v, frame_data(&t.fp, rx->index), sizeof(v));
	return v;
}

START_TEST(test_stream_every_consumer_gets_every_frame_and_the_last_release_frees_it)
{
	struct stream_received rx[3][4];
	uint32_t epoch = 0;

	setup(8);
	for (uint32_t c = 0; c < 3; c++)
		attach(c, SHM_STREAM_BLOCK, 4, 8);
	for (uint32_t v = 0; v < 4; v++)
		ck_assert_int_eq(publish(v, 0), 3);
	ck_assert_uint_eq(frame_count_owned(&t.fp), 4);
	for (uint32_t c = 0; c < 3; c++)
		for (uint32_t v = 0; v < 4; v++) {
			ck_assert_int_eq(receive(c, 0, &rx[c][v], &epoch), 0);
			ck_assert_uint_eq(value_of(&rx[c][v]), v);
			ck_assert_uint_eq(rx[c][v].meta.sequence, v + 1);
			ck_assert_int_eq(rx[c][v].meta.presentation_time, v);
			ck_assert(!rx[c][v].lost);
		}
	ck_assert_int_eq(receive(0, 0, &rx[0][0], &epoch), -EAGAIN);
	/* Zero-copy: each consumer got the producer's very frame. */
	ck_assert_uint_eq(rx[0][2].index, rx[2][2].index);
	for (uint32_t c = 0; c < 3; c++)
		for (uint32_t v = 0; v < 4; v++) {
			ck_assert_uint_eq(frame_count_owned(&t.fp), c < 2 ? 4 : 4 - v);
			ck_assert_int_eq(
				stream_release(&t.sm, c, rx[c][v].index, rx[c][v].generation), 0);
		}
	ck_assert_uint_eq(frame_count_owned(&t.fp), 0);
	ck_assert_int_eq(stream_release(&t.sm, 0, rx[0][0].index, rx[0][0].generation), -EALREADY);
	ck_assert_uint_eq(atomic_load(&t.sm.consumers[0].delivered), 4);
	teardown();
}
END_TEST

START_TEST(test_stream_without_consumers_the_frame_goes_back)
{
	setup(4);
	ck_assert_int_eq(publish(1, 0), 0);
	ck_assert_uint_eq(frame_count_owned(&t.fp), 0);
	ck_assert_uint_eq(atomic_load(&t.sm.shared->published), 1);
	teardown();
}
END_TEST

START_TEST(test_stream_block_refuses_at_timeout_and_the_frame_stays_the_producers)
{
	struct stream_received rx;
	uint32_t epoch = 0;

	setup(8);
	attach(0, SHM_STREAM_BLOCK, 2, 8);
	ck_assert_int_eq(publish(1, 0), 1);
	ck_assert_int_eq(publish(2, 0), 1);
	ck_assert_int_eq(publish(3, 0), -ETIMEDOUT);
	ck_assert_int_eq(publish(3, 20), -ETIMEDOUT);
	ck_assert_uint_eq(atomic_load(&t.sm.consumers[0].dropped), 0);
	ck_assert_int_eq(receive(0, 0, &rx, &epoch), 0);
	ck_assert_uint_eq(value_of(&rx), 1);
	ck_assert_int_eq(publish(3, 0), 1);
	teardown();
}
END_TEST

START_TEST(test_stream_drop_newest_counts_and_marks_the_next_frame)
{
	struct stream_received rx;
	uint32_t epoch = 0;

	setup(8);
	attach(0, SHM_STREAM_DROP_NEWEST, 2, 8);
	attach(1, SHM_STREAM_BLOCK, 8, 8);
	for (uint32_t v = 1; v <= 4; v++)
		ck_assert_int_eq(publish(v, 0), v <= 2 ? 2 : 1);
	ck_assert_uint_eq(atomic_load(&t.sm.consumers[0].dropped), 2);
	ck_assert_int_eq(receive(0, 0, &rx, &epoch), 0);
	ck_assert_uint_eq(value_of(&rx), 1);
	ck_assert(!rx.lost);
	ck_assert_int_eq(receive(0, 0, &rx, &epoch), 0);
	ck_assert_uint_eq(value_of(&rx), 2);
	ck_assert(!rx.lost);
	/* 3 and 4 were lost between 2 and 5. */
	ck_assert_int_eq(publish(5, 0), 2);
	ck_assert_int_eq(receive(0, 0, &rx, &epoch), 0);
	ck_assert_uint_eq(value_of(&rx), 5);
	ck_assert(rx.lost);
	ck_assert_int_eq(publish(6, 0), 2);
	ck_assert_int_eq(receive(0, 0, &rx, &epoch), 0);
	ck_assert(!rx.lost);
	teardown();
}
END_TEST

START_TEST(test_stream_drop_oldest_and_latest_evict_and_free)
{
	struct stream_received rx;
	uint32_t epoch = 0, epoch1 = 0;

	setup(8);
	attach(0, SHM_STREAM_DROP_OLDEST, 2, 8);
	attach(1, SHM_STREAM_LATEST, 0, 8);
	for (uint32_t v = 1; v <= 6; v++)
		ck_assert_int_eq(publish(v, 0), 2);
	/* 5 and 6 queued for 0, 6 for 1: nothing else holds a frame. */
	ck_assert_uint_eq(frame_count_owned(&t.fp), 2);
	ck_assert_uint_eq(atomic_load(&t.sm.consumers[0].dropped), 4);
	ck_assert_uint_eq(atomic_load(&t.sm.consumers[1].dropped), 5);
	ck_assert_int_eq(receive(0, 0, &rx, &epoch), 0);
	ck_assert_uint_eq(value_of(&rx), 5);
	ck_assert(rx.lost);
	ck_assert_int_eq(receive(1, 0, &rx, &epoch1), 0);
	ck_assert_uint_eq(value_of(&rx), 6);
	ck_assert(rx.lost);
	ck_assert_int_eq(receive(1, 0, &rx, &epoch1), -EAGAIN);
	teardown();
}
END_TEST

/*
 * A ring entry scribbled to name a frame past the pool (entries hold 24 bits
 * of index): the producer that evicts it for a DROP_OLDEST consumer used to
 * clear a bit in refs[index], far outside the stream's memory.
 */
START_TEST(test_stream_eviction_of_a_scribbled_entry_stays_in_bounds)
{
	struct stream_received rx;
	uint32_t epoch = 0, tail;

	setup(8);
	attach(0, SHM_STREAM_DROP_OLDEST, 2, 8);
	ck_assert_int_eq(publish(1, 0), 1);
	ck_assert_int_eq(publish(2, 0), 1);
	tail = atomic_load(&t.sm.consumers[0].tail);
	atomic_store(&t.sm.rings[0][tail % SHM_STREAM_RING],
		     shm_entry(SHM_ENTRY_LIVE, SHM_STREAM_MAX_FRAMES - 1, 1));
	/* Evicts the scribbled entry: nothing to unref; the frame it replaced waits for detach. */
	ck_assert_int_eq(publish(3, 0), 1);
	ck_assert_int_eq(receive(0, 0, &rx, &epoch), 0);
	ck_assert_uint_eq(value_of(&rx), 2);
	ck_assert_int_eq(stream_release(&t.sm, 0, rx.index, rx.generation), 0);
	ck_assert_int_eq(receive(0, 0, &rx, &epoch), 0);
	ck_assert_uint_eq(value_of(&rx), 3);
	ck_assert_int_eq(stream_release(&t.sm, 0, rx.index, rx.generation), 0);
	ck_assert_uint_eq(frame_count_owned(&t.fp), 1);
	stream_consumer_detach(&t.sm, 0);
	ck_assert_uint_eq(frame_count_owned(&t.fp), 0);
	teardown();
}
END_TEST

START_TEST(test_stream_max_held_refuses_receive)
{
	struct stream_received rx[2];
	uint32_t epoch = 0;

	setup(8);
	attach(0, SHM_STREAM_BLOCK, 4, 1);
	ck_assert_int_eq(publish(1, 0), 1);
	ck_assert_int_eq(publish(2, 0), 1);
	ck_assert_int_eq(receive(0, 0, &rx[0], &epoch), 0);
	ck_assert_int_eq(receive(0, 0, &rx[1], &epoch), -EDQUOT);
	ck_assert_int_eq(stream_release(&t.sm, 0, rx[0].index, rx[0].generation), 0);
	ck_assert_int_eq(receive(0, 0, &rx[1], &epoch), 0);
	ck_assert_uint_eq(value_of(&rx[1]), 2);
	teardown();
}
END_TEST

START_TEST(test_stream_end_is_reported_once_after_the_frames)
{
	struct stream_received rx;
	uint32_t epoch;

	setup(8);
	attach(0, SHM_STREAM_BLOCK, 4, 8);
	epoch = stream_consumer_epoch(&t.sm);
	ck_assert_int_eq(publish(1, 0), 1);
	ck_assert_int_eq(stream_end(&t.sm, PRODUCER), 0);
	ck_assert_int_eq(stream_end(&t.sm, PRODUCER), -EALREADY);
	ck_assert_int_eq(publish(9, 0), -EPIPE);
	ck_assert(stream_consumer_ready(&t.sm, 0, epoch));
	ck_assert_int_eq(receive(0, 0, &rx, &epoch), 0);
	ck_assert_int_eq(receive(0, 0, &rx, &epoch), -EPIPE);
	ck_assert(!stream_consumer_ready(&t.sm, 0, epoch));
	ck_assert_int_eq(receive(0, 0, &rx, &epoch), -EAGAIN);
	/* A new producer: frames flow again, and its going is news again. */
	stream_producer_gone(&t.sm, PRODUCER);
	ck_assert_int_eq(receive(0, 0, &rx, &epoch), -EAGAIN);
	stream_producer_attach(&t.sm, PRODUCER);
	ck_assert_int_eq(publish(2, 0), 1);
	stream_producer_gone(&t.sm, PRODUCER);
	ck_assert_int_eq(receive(0, 0, &rx, &epoch), 0);
	ck_assert_uint_eq(value_of(&rx), 2);
	ck_assert_int_eq(receive(0, 0, &rx, &epoch), -ECONNRESET);
	ck_assert_int_eq(receive(0, 0, &rx, &epoch), -EAGAIN);
	teardown();
}
END_TEST

/*
 * A producer that goes while a consumer's open is under way (attached by the
 * daemon, not mapped yet) is its news: it gets what was published, then the
 * reset, though the state read at its mapping is that end already.
 */
START_TEST(test_stream_producer_gone_during_a_consumers_open_is_its_news)
{
	struct stream_received rx;
	uint32_t epoch;

	setup(8);
	attach(0, SHM_STREAM_BLOCK, 4, 8);
	ck_assert_int_eq(publish(1, 0), 1);
	stream_producer_gone(&t.sm, PRODUCER);
	/* What the consumer read at its mapping before: the end it would have missed. */
	ck_assert_uint_eq(stream_consumer_epoch(&t.sm), stream_consumer_start_epoch(&t.sm, 0) + 1);
	epoch = stream_consumer_start_epoch(&t.sm, 0);
	ck_assert(stream_consumer_ready(&t.sm, 0, epoch));
	ck_assert_int_eq(receive(0, 0, &rx, &epoch), 0);
	ck_assert_uint_eq(value_of(&rx), 1);
	ck_assert_int_eq(receive(0, 0, &rx, &epoch), -ECONNRESET);
	ck_assert_int_eq(receive(0, 0, &rx, &epoch), -EAGAIN);

	/* Attached after the end: not its news. */
	attach(1, SHM_STREAM_BLOCK, 4, 8);
	epoch = stream_consumer_start_epoch(&t.sm, 1);
	ck_assert(!stream_consumer_ready(&t.sm, 1, epoch));
	ck_assert_int_eq(receive(1, 0, &rx, &epoch), -EAGAIN);
	teardown();
}
END_TEST

START_TEST(test_stream_format_and_its_generation)
{
	char buf[16];
	struct stream_received rx;
	uint32_t epoch = 0, generation = 0;

	setup(4);
	attach(0, SHM_STREAM_BLOCK, 4, 8);
	ck_assert_int_eq(stream_get_format(&t.sm, buf, sizeof(buf), &generation), 0);
	ck_assert_int_eq(stream_set_format(&t.sm, "video/x-raw", 11), 1);
	ck_assert_int_eq(stream_get_format(&t.sm, buf, sizeof(buf), &generation), 11);
	ck_assert_uint_eq(generation, 1);
	ck_assert(memcmp(buf, "video/x-raw", 11) == 0);
	ck_assert_int_eq(stream_get_format(&t.sm, buf, 0, NULL), 11);
	ck_assert_int_eq(publish(1, 0), 1);
	ck_assert_int_eq(receive(0, 0, &rx, &epoch), 0);
	ck_assert_uint_eq(rx.meta.format_generation, 1);
	ck_assert_int_eq(stream_set_format(&t.sm, buf, SHM_STREAM_FORMAT_MAX + 1), -EMSGSIZE);
	teardown();
}
END_TEST

START_TEST(test_stream_detach_releases_queued_and_held_frames_only_for_that_consumer)
{
	struct stream_received rx;
	uint32_t epoch = 0;

	setup(8);
	attach(0, SHM_STREAM_BLOCK, 4, 8);
	attach(1, SHM_STREAM_BLOCK, 4, 8);
	ck_assert_int_eq(publish(1, 0), 2);
	ck_assert_int_eq(publish(2, 0), 2);
	ck_assert_int_eq(publish(3, 0), 2);
	ck_assert_int_eq(receive(1, 0, &rx, &epoch), 0); /* 1 holds frame 1, 2 and 3 queued */
	ck_assert_uint_eq(stream_consumer_detach(&t.sm, 0), 0); /* 1 still refers to each */
	ck_assert_uint_eq(frame_count_owned(&t.fp), 3);
	ck_assert_uint_eq(stream_consumer_detach(&t.sm, 1), 3);
	ck_assert_uint_eq(frame_count_owned(&t.fp), 0);
	ck_assert_int_eq(stream_release(&t.sm, 1, rx.index, rx.generation), -EALREADY);
	/* A new consumer in slot 0 finds none of the old entries. */
	attach(0, SHM_STREAM_BLOCK, 4, 8);
	ck_assert_int_eq(receive(0, 0, &rx, &epoch), -EAGAIN);
	ck_assert_int_eq(publish(4, 0), 1);
	ck_assert_int_eq(receive(0, 0, &rx, &epoch), 0);
	ck_assert_uint_eq(value_of(&rx), 4);
	teardown();
}
END_TEST

/*
 * A producer killed while pushing to consumer 1 (of 0, 1, 2): 0 has the
 * frame, 1 had its entry written but not its head moved, 2 nothing. The
 * daemon's repair keeps 0's reference, drops 1's and 2's.
 */
START_TEST(test_stream_producer_killed_mid_publish_leaves_each_frame_delivered_or_free)
{
	struct stream_received rx;
	uint32_t index, generation, epoch = 0, head1;

	setup(8);
	for (uint32_t c = 0; c < 3; c++)
		attach(c, SHM_STREAM_BLOCK, 4, 8);
	acquire(&index, &generation);
	/* What stream_publish() does, up to the kill. */
	atomic_store(&t.sm.refs[index], (uint64_t)generation << 32 | 7);
	atomic_store(&t.sm.shared->journal_frame,
		     SHM_JOURNAL_VALID | (uint64_t)index << 31 | generation);
	atomic_store(&t.fp.frames[index].owner, shm_owner(t.sm.tenant, generation));
	atomic_store(&t.sm.shared->journal_push, (uint64_t)0 << 32 | 0);
	atomic_store(&t.sm.rings[0][0], shm_entry(SHM_ENTRY_LIVE, index, generation));
	atomic_store(&t.sm.consumers[0].head, 1);
	head1 = atomic_load(&t.sm.consumers[1].head);
	atomic_store(&t.sm.shared->journal_push, (uint64_t)1 << 32 | head1);
	atomic_store(&t.sm.rings[1][head1], shm_entry(SHM_ENTRY_LIVE, index, generation));

	ck_assert_uint_eq(stream_producer_gone(&t.sm, PRODUCER), 0);
	ck_assert_uint_eq(atomic_load(&t.sm.refs[index]), (uint64_t)generation << 32 | 1);
	ck_assert_int_eq(receive(0, 0, &rx, &epoch), 0);
	ck_assert_uint_eq(rx.index, index);
	ck_assert_int_eq(receive(0, 0, &rx, &epoch), -ECONNRESET);
	ck_assert_int_eq(stream_release(&t.sm, 0, index, generation), 0);
	ck_assert_uint_eq(frame_count_owned(&t.fp), 0);
	teardown();
}
END_TEST

/* Killed between claiming an eviction and dropping its reference. */
START_TEST(test_stream_producer_killed_mid_eviction_drops_the_reference)
{
	setup(8);
	attach(0, SHM_STREAM_DROP_OLDEST, 1, 8);
	ck_assert_int_eq(publish(1, 0), 1);
	atomic_fetch_or(&t.sm.rings[0][0], (uint64_t)SHM_ENTRY_EVICTED << 62);
	atomic_fetch_add(&t.sm.consumers[0].tail, 1);
	ck_assert_uint_eq(frame_count_owned(&t.fp), 1);
	ck_assert_uint_eq(stream_producer_gone(&t.sm, PRODUCER), 1);
	ck_assert_uint_eq(frame_count_owned(&t.fp), 0);
	teardown();
}
END_TEST

START_TEST(test_stream_destroy_frees_every_frame_and_wakes_consumers)
{
	struct stream_received rx;
	uint32_t epoch = 0;

	setup(8);
	attach(0, SHM_STREAM_BLOCK, 4, 8);
	ck_assert_int_eq(publish(1, 0), 1);
	ck_assert_int_eq(publish(2, 0), 1);
	ck_assert_int_eq(receive(0, 0, &rx, &epoch), 0);
	ck_assert_uint_eq(stream_destroy(&t.sm), 2);
	ck_assert_uint_eq(frame_count_owned(&t.fp), 0);
	ck_assert_int_eq(receive(0, 0, &rx, &epoch), -ESHUTDOWN);
	teardown();
}
END_TEST

/* A consumer that scribbles its tail out of reach loses frames; nobody spins or crashes. */
START_TEST(test_stream_scribbled_tail_disturbs_that_consumer_only)
{
	struct stream_received rx;
	uint32_t epoch = 0;

	setup(8);
	attach(0, SHM_STREAM_DROP_OLDEST, 2, 8);
	attach(1, SHM_STREAM_BLOCK, 4, 8);
	atomic_store(&t.sm.consumers[0].tail, 0x80000000u);
	ck_assert_int_eq(publish(1, 0), 1);
	ck_assert_int_eq(receive(0, 0, &rx, &epoch), -EAGAIN);
	ck_assert_int_eq(receive(1, 0, &rx, &epoch), 0);
	ck_assert_uint_eq(value_of(&rx), 1);
	ck_assert_int_eq(stream_release(&t.sm, 1, rx.index, rx.generation), 0);
	ck_assert_uint_eq(frame_count_owned(&t.fp), 0);
	/*
	 * A BLOCK consumer's scribbled tail reads as a full queue: the publish
	 * waits (for its stream alone), and the consumer sees the end.
	 */
	atomic_store(&t.sm.consumers[1].tail, 0x80000000u);
	ck_assert_int_eq(publish(2, 0), -ETIMEDOUT);
	ck_assert_int_eq(stream_end(&t.sm, PRODUCER), 0);
	ck_assert_int_eq(receive(1, 0, &rx, &epoch), -EPIPE);
	teardown();
}
END_TEST

/* ---- threads: a producer and consumers at full speed ---- */

#define STRESS_FRAMES 20000u

struct consumer_arg {
	uint32_t c, policy;
	uint32_t received, out_of_order;
};

static void *consumer_thread(void *userdata)
{
	struct consumer_arg *a = userdata;
	uint32_t epoch = 0, last = 0;
	struct stream_received rx;

	for (;;) {
		int r = receive(a->c, 1000, &rx, &epoch);

		if (r == -EPIPE)
			break;
		ck_assert_int_eq(r, 0);
		if (value_of(&rx) <= last)
			a->out_of_order++;
		last = value_of(&rx);
		a->received++;
		ck_assert_int_eq(stream_release(&t.sm, a->c, rx.index, rx.generation), 0);
	}
	return NULL;
}

static void stress(uint32_t policy)
{
	struct consumer_arg args[3];
	pthread_t threads[3];

	setup(16);
	for (uint32_t c = 0; c < 3; c++) {
		args[c] = (struct consumer_arg){ .c = c, .policy = c == 2 ? policy : 0 };
		attach(c, args[c].policy, 4, 4);
		ck_assert_int_eq(pthread_create(&threads[c], NULL, consumer_thread, &args[c]), 0);
	}
	for (uint32_t v = 1; v <= STRESS_FRAMES; v++) {
		struct shm_stream_meta meta = { 0 };
		struct stream_publish p = { .timeout_ms = 1000 };

		ck_assert_int_eq(frame_acquire(&t.fp, PRODUCER, &t.fp.slots[0], &t.hint, 1000,
					       &p.index, &p.generation),
				 0);
		memcpy(frame_data(&t.fp, p.index), &v, sizeof(v));
		ck_assert_int_ge(stream_publish(&t.sm, PRODUCER, &p, &meta), 2);
	}
	ck_assert_int_eq(stream_end(&t.sm, PRODUCER), 0);
	for (uint32_t c = 0; c < 3; c++) {
		pthread_join(threads[c], NULL);
		ck_assert_uint_eq(args[c].out_of_order, 0);
		if (args[c].policy == SHM_STREAM_BLOCK)
			ck_assert_uint_eq(args[c].received, STRESS_FRAMES);
		else
			ck_assert_uint_eq(args[c].received +
						  atomic_load(&t.sm.consumers[c].dropped),
					  STRESS_FRAMES);
	}
	ck_assert_uint_eq(frame_count_owned(&t.fp), 0);
	teardown();
}

START_TEST(test_stream_threads_block)
{
	stress(SHM_STREAM_BLOCK);
}
END_TEST

START_TEST(test_stream_threads_drop_oldest)
{
	stress(SHM_STREAM_DROP_OLDEST);
}
END_TEST

START_TEST(test_stream_threads_drop_newest)
{
	stress(SHM_STREAM_DROP_NEWEST);
}
END_TEST

/*
 * Nobody blocks: the producer runs flat out, evicting for every consumer
 * while they take and give back one frame at a time (max_held 1): each
 * eviction races a receive for the same entries, and the ring wraps under
 * a consumer caught between reading its tail and claiming the entry there.
 */
#define EVICT_FRAMES 100000u

START_TEST(test_stream_threads_evicting_producer_and_max_held_one)
{
	static const uint32_t policies[3] = { SHM_STREAM_LATEST, SHM_STREAM_DROP_OLDEST,
					      SHM_STREAM_DROP_OLDEST };
	static const uint32_t depths[3] = { 1, 2, 1 };
	struct consumer_arg args[3];
	pthread_t threads[3];

	setup(16);
	for (uint32_t c = 0; c < 3; c++) {
		args[c] = (struct consumer_arg){ .c = c, .policy = policies[c] };
		attach(c, policies[c], depths[c], 1);
		ck_assert_int_eq(pthread_create(&threads[c], NULL, consumer_thread, &args[c]), 0);
	}
	for (uint32_t v = 1; v <= EVICT_FRAMES; v++) {
		struct shm_stream_meta meta = { 0 };
		struct stream_publish p = { .timeout_ms = 0 };

		ck_assert_int_eq(frame_acquire(&t.fp, PRODUCER, &t.fp.slots[0], &t.hint, 1000,
					       &p.index, &p.generation),
				 0);
		memcpy(frame_data(&t.fp, p.index), &v, sizeof(v));
		ck_assert_int_eq(stream_publish(&t.sm, PRODUCER, &p, &meta), 3);
	}
	ck_assert_int_eq(stream_end(&t.sm, PRODUCER), 0);
	for (uint32_t c = 0; c < 3; c++) {
		pthread_join(threads[c], NULL);
		ck_assert_uint_eq(args[c].out_of_order, 0);
		ck_assert_uint_eq(args[c].received + atomic_load(&t.sm.consumers[c].dropped),
				  EVICT_FRAMES);
	}
	ck_assert_uint_eq(frame_count_owned(&t.fp), 0);
	teardown();
}
END_TEST

int main(void)
{
	Suite *s = suite_create("stream");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc,
		       test_stream_every_consumer_gets_every_frame_and_the_last_release_frees_it);
	tcase_add_test(tc, test_stream_without_consumers_the_frame_goes_back);
	tcase_add_test(tc, test_stream_block_refuses_at_timeout_and_the_frame_stays_the_producers);
	tcase_add_test(tc, test_stream_drop_newest_counts_and_marks_the_next_frame);
	tcase_add_test(tc, test_stream_drop_oldest_and_latest_evict_and_free);
	tcase_add_test(tc, test_stream_eviction_of_a_scribbled_entry_stays_in_bounds);
	tcase_add_test(tc, test_stream_max_held_refuses_receive);
	tcase_add_test(tc, test_stream_end_is_reported_once_after_the_frames);
	tcase_add_test(tc, test_stream_producer_gone_during_a_consumers_open_is_its_news);
	tcase_add_test(tc, test_stream_format_and_its_generation);
	tcase_add_test(tc,
		       test_stream_detach_releases_queued_and_held_frames_only_for_that_consumer);
	tcase_add_test(tc,
		       test_stream_producer_killed_mid_publish_leaves_each_frame_delivered_or_free);
	tcase_add_test(tc, test_stream_producer_killed_mid_eviction_drops_the_reference);
	tcase_add_test(tc, test_stream_destroy_frees_every_frame_and_wakes_consumers);
	tcase_add_test(tc, test_stream_scribbled_tail_disturbs_that_consumer_only);
	tcase_add_test(tc, test_stream_threads_block);
	tcase_add_test(tc, test_stream_threads_drop_oldest);
	tcase_add_test(tc, test_stream_threads_drop_newest);
	tcase_add_test(tc, test_stream_threads_evicting_producer_and_max_held_one);
	suite_add_tcase(s, tc);

	return ksalloc_check_run(s);
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * bench-iceoryx: the loops of bench-streams (streams-harness.h) through
 * iceoryx 2.0.3's C binding, the peer bench/run-streams.sh sets beside ksalloc
 * streams and the raw ring. It needs iox-roudi running (the run script starts
 * and stops it).
 *
 * One publisher (history 0, ConsumerTooSlowPolicy_WAIT_FOR_CONSUMER) and
 * --consumers subscribers (queue 64, QueueFullPolicy_BLOCK_PRODUCER): lossless
 * as the other two. A frame goes loan (64 bytes) -> fill -> publish -> take ->
 * release. A subscriber that finds nothing waits in a WaitSet on its
 * HAS_DATA state, after trying iox_sub_take_chunk() for up to --spin-us.
 *
 *   bench-iceoryx latency|tput [options]   (the options of bench-streams)
 */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench/bench-util.h"
#include "bench/streams-harness.h"

#include <iceoryx_binding_c/enums.h>
#include <iceoryx_binding_c/log.h>
#include <iceoryx_binding_c/publisher.h>
#include <iceoryx_binding_c/runtime.h>
#include <iceoryx_binding_c/subscriber.h>
#include <iceoryx_binding_c/types.h>
#include <iceoryx_binding_c/wait_set.h>

#define FRAME_SIZE 64u
#define QUEUE_CAPACITY 64u
#define SUBSCRIBE_LIMIT_NS 30000000000LL

struct iox_shared {
	char instance[64]; /* the service's instance: this run's own (the parent's pid) */
};

static int iox_setup(struct harness_shared *h, const struct harness_options *o)
{
	struct iox_shared *is = h->system;

	(void)o;
	snprintf(is->instance, sizeof(is->instance), "run%d", (int)getpid());
	return 0;
}

static int iox_producer(struct harness_shared *h, const struct harness_options *o)
{
	struct iox_shared *is = h->system;
	uint64_t loan_retries = 0;
	int64_t last_ns;
	iox_pub_storage_t storage;
	iox_pub_options_t opts;
	char name[64];
	iox_pub_t pub;
	int r;

	snprintf(name, sizeof(name), "bench-iox-pub-%d", (int)getpid());
	iox_runtime_init(name);
	iox_pub_options_init(&opts);
	opts.historyCapacity = 0;
	opts.subscriberTooSlowPolicy = ConsumerTooSlowPolicy_WAIT_FOR_CONSUMER;
	pub = iox_pub_init(&storage, "bench-streams", is->instance, "frames", &opts);
	atomic_store(&h->created, 1);
	r = harness_ready(h, o, true);
	if (r < 0)
		goto out;
	last_ns = now_ns();
	for (uint64_t i = 0; i < o->frames; i++) {
		enum iox_AllocationResult a;
		void *p;
		int64_t t;

		if (o->test == TEST_LATENCY)
			harness_pace(o);
		else if (o->gap_ns)
			last_ns = harness_gap(o, last_ns);
		while ((a = iox_pub_loan_chunk(pub, &p, FRAME_SIZE)) != AllocationResult_SUCCESS) {
			if (a != AllocationResult_RUNNING_OUT_OF_CHUNKS) {
				fprintf(stderr, "bench-iceoryx: loan: error %d\n", (int)a);
				r = -ENOMEM;
				goto out;
			}
			loan_retries++;
			sched_yield();
		}
		t = now_ns();
		memcpy(p, &t, sizeof(t));
		iox_pub_publish_chunk(pub, p);
		if (o->test == TEST_LATENCY)
			harness_wait_ack(h, (uint32_t)i);
		if (atomic_load_explicit(&h->failed, memory_order_relaxed)) {
			r = -ECANCELED;
			goto out;
		}
	}
	r = harness_wait_word(h, &h->finished, o->consumers);
	atomic_store(&h->measured, 1);
	/* Loans the pool refused: the publisher's waits of its own. */
	atomic_fetch_add(&h->producer_sleeps, loan_retries);
out:
	iox_pub_deinit(pub);
	iox_runtime_shutdown();
	return r < 0 ? r : 0;
}

/* The next chunk: tries for up to @spin_ns, then waits in @ws (each wait counted). */
static int take(iox_sub_t sub, iox_ws_t ws, int64_t spin_ns, const void **p, uint64_t *waits)
{
	int64_t until = spin_ns ? now_ns() + spin_ns : 0;
	iox_notification_info_t info[1];
	enum iox_ChunkReceiveResult c;
	uint64_t missed;

	for (;;) {
		c = iox_sub_take_chunk(sub, p);
		if (c == ChunkReceiveResult_SUCCESS)
			return 0;
		if (c != ChunkReceiveResult_NO_CHUNK_AVAILABLE) {
			fprintf(stderr, "bench-iceoryx: take: error %d\n", (int)c);
			return -EIO;
		}
		if (until && now_ns() < until) {
			harness_cpu_relax();
			continue;
		}
		iox_ws_wait(ws, info, 1, &missed);
		(*waits)++;
	}
}

static int iox_consumer(struct harness_shared *h, const struct harness_options *o, unsigned k)
{
	struct iox_shared *is = h->system;
	int64_t spin_ns = (int64_t)o->spin_us * 1000, sum = 0, deadline;
	iox_sub_storage_t storage;
	iox_ws_storage_t ws_storage;
	iox_sub_options_t opts;
	uint64_t waits = 0;
	char name[64];
	iox_sub_t sub;
	iox_ws_t ws;
	int r;

	r = harness_wait_word(h, &h->created, 1);
	if (r < 0)
		return r;
	snprintf(name, sizeof(name), "bench-iox-sub-%u-%d", k, (int)getpid());
	iox_runtime_init(name);
	iox_sub_options_init(&opts);
	opts.queueCapacity = QUEUE_CAPACITY;
	opts.historyRequest = 0;
	opts.queueFullPolicy = QueueFullPolicy_BLOCK_PRODUCER;
	sub = iox_sub_init(&storage, "bench-streams", is->instance, "frames", &opts);
	ws = iox_ws_init(&ws_storage);
	if (iox_ws_attach_subscriber_state(ws, sub, SubscriberState_HAS_DATA, 0, NULL) !=
	    WaitSetResult_SUCCESS) {
		r = -EIO;
		goto out;
	}
	/* Subscribed: RouDi has connected our queue to the publisher. */
	deadline = now_ns() + SUBSCRIBE_LIMIT_NS;
	while (iox_sub_get_subscription_state(sub) != SubscribeState_SUBSCRIBED) {
		if (now_ns() > deadline || atomic_load(&h->failed)) {
			r = -ETIMEDOUT;
			goto out;
		}
		usleep(100);
	}
	r = harness_ready(h, o, false);
	if (r < 0)
		goto out;
	for (uint64_t i = 0; i < o->frames; i++) {
		const void *p;
		int64_t t, stamp;

		r = take(sub, ws, spin_ns, &p, &waits);
		t = now_ns();
		if (r < 0)
			goto out;
		memcpy(&stamp, p, sizeof(stamp));
		iox_sub_release_chunk(sub, p);
		if (o->test == TEST_LATENCY) {
			h->latency_ns[i] = t - stamp;
			harness_ack(h, (uint32_t)i);
		}
		sum += stamp;
	}
	h->end_ns[k] = now_ns();
	atomic_fetch_add(&h->consumer_sleeps, waits);
	atomic_fetch_add(&h->finished, 1);
	r = harness_wait_word(h, &h->measured, 1);
	__asm__ volatile("" : : "r"(sum));
out:
	iox_ws_detach_subscriber_state(ws, sub, SubscriberState_HAS_DATA);
	iox_ws_deinit(ws);
	iox_sub_deinit(sub);
	iox_runtime_shutdown();
	return r < 0 ? r : 0;
}

static const struct harness_ops iox_ops = {
	.shared_size = sizeof(struct iox_shared),
	.setup = iox_setup,
	.producer = iox_producer,
	.consumer = iox_consumer,
};

int main(int argc, char **argv)
{
	static const char *const systems[] = { "iceoryx", NULL };
	struct harness_options o;
	int r;

	r = harness_parse(argc, argv, systems, &o);
	if (r < 0)
		return 2;
	/* Its debug lines (every segment it maps) are not results. */
	iox_set_loglevel(Iceoryx_LogLevel_Warn);
	if (o.test == TEST_RECLAIM) {
		fprintf(stderr, "bench-iceoryx: no reclaim here\n");
		return 2;
	}
	r = harness_run(&iox_ops, &o);
	return r < 0 ? 1 : 0;
}

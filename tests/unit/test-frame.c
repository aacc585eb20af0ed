/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * shm/frame.c on a pool in shared anonymous memory: ownership, errors,
 * hand-off and fairness, timeouts, state changes, reclaim. Threads stand in
 * for sessions where one process is enough; forked processes where it is not.
 */
#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "shm/frame.h"
#include "tests/lib/ksalloc-check.h"

#define N_SLOTS 4

struct test_pool {
	void *map;
	struct shm_layout layout;
	struct frame_pool fp;
};

static struct test_pool pool;

/* A pool of @frames frames, in memory that forked children share, slots 0..3 = sessions 1..4. */
static void make_pool(uint32_t frames)
{
	struct framing f = { .frames = frames, .frame_size = 64 };

	ck_assert_int_eq(shm_layout_compute(&f, N_SLOTS, 0, UINT64_MAX, &pool.layout), 0);
	pool.map = mmap(NULL, pool.layout.size_bytes, PROT_READ | PROT_WRITE,
			MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ck_assert_ptr_ne(pool.map, MAP_FAILED);
	shm_header_write(pool.map, &pool.layout, 1, "test", &f);
	frame_pool_init(&pool.fp, pool.map, &pool.layout, frames);
	for (uint32_t i = 0; i < N_SLOTS; i++)
		frame_slot_assign(&pool.fp.slots[i], i + 1);
	atomic_store(&pool.fp.shared->slots_used, N_SLOTS);
}

static void free_pool(void)
{
	munmap(pool.map, pool.layout.size_bytes);
}

static struct shm_slot *slot_of(uint32_t session)
{
	return &pool.fp.slots[session - 1];
}

START_TEST(test_frame_acquire_takes_every_frame_once_then_reports_empty)
{
	uint32_t hint = 0, index, generation, seen = 0;

	make_pool(8);
	for (int i = 0; i < 8; i++) {
		ck_assert_int_eq(
			frame_try_acquire(&pool.fp, 1, slot_of(1), &hint, &index, &generation), 0);
		ck_assert_uint_lt(index, 8);
		ck_assert_uint_eq(seen & (1u << index), 0);
		seen |= 1u << index;
		ck_assert_uint_eq(generation, 1);
	}
	ck_assert_int_eq(frame_try_acquire(&pool.fp, 1, slot_of(1), &hint, &index, &generation),
			 -EAGAIN);
	ck_assert_uint_eq(frame_count_owned(&pool.fp), 8);
	ck_assert_uint_eq(atomic_load(&pool.fp.shared->allocated), 8);
	ck_assert_uint_eq(atomic_load(&pool.fp.shared->peak), 8);
	ck_assert_uint_eq(atomic_load(&slot_of(1)->acquisitions), 8);
	free_pool();
}
END_TEST

START_TEST(test_frame_release_refuses_what_is_not_the_callers)
{
	uint32_t hint = 0, index, generation, index2, generation2;

	make_pool(2);
	ck_assert_int_eq(frame_try_acquire(&pool.fp, 1, slot_of(1), &hint, &index, &generation), 0);
	ck_assert_int_eq(frame_release(&pool.fp, 1, 2, generation), -EINVAL);
	ck_assert_int_eq(frame_release(&pool.fp, 1, index, SHM_HANDOFF), -EINVAL);
	ck_assert_int_eq(frame_release(&pool.fp, 2, index, generation), -EPERM);
	ck_assert_int_eq(frame_release(&pool.fp, 1, index, generation + 1), -ESTALE);
	ck_assert_int_eq(frame_release(&pool.fp, 1, index, generation), 0);
	ck_assert_int_eq(frame_release(&pool.fp, 1, index, generation), -EALREADY);

	/* Acquired again, by someone else: the old handle is stale, not theirs to free. */
	hint = index;
	ck_assert_int_eq(frame_try_acquire(&pool.fp, 2, slot_of(2), &hint, &index2, &generation2),
			 0);
	ck_assert_uint_eq(index2, index);
	ck_assert_uint_eq(generation2, generation + 1);
	ck_assert_int_eq(frame_release(&pool.fp, 1, index, generation), -ESTALE);
	ck_assert_int_eq(frame_release(&pool.fp, 2, index2, generation2), 0);
	ck_assert_uint_eq(frame_count_owned(&pool.fp), 0);
	ck_assert_uint_eq(atomic_load(&pool.fp.shared->allocated), 0);
	free_pool();
}
END_TEST

START_TEST(test_frame_generation_wraps_within_31_bits)
{
	uint32_t hint = 0, index, generation;

	make_pool(1);
	atomic_store(&pool.fp.frames[0].owner, shm_owner(0, SHM_GENERATION_MASK));
	ck_assert_int_eq(frame_try_acquire(&pool.fp, 1, slot_of(1), &hint, &index, &generation), 0);
	ck_assert_uint_eq(generation, 0);
	ck_assert_int_eq(frame_release(&pool.fp, 1, index, generation), 0);
	free_pool();
}
END_TEST

START_TEST(test_frame_acquire_with_zero_timeout_fails_at_once)
{
	uint32_t hint = 0, index, generation;

	make_pool(1);
	ck_assert_int_eq(frame_acquire(&pool.fp, 1, slot_of(1), &hint, 0, &index, &generation), 0);
	ck_assert_int_eq(frame_acquire(&pool.fp, 2, slot_of(2), &hint, 0, &index, &generation),
			 -ETIMEDOUT);
	ck_assert_uint_eq(atomic_load(&slot_of(2)->timeouts), 1);
	ck_assert_uint_eq(atomic_load(&pool.fp.shared->waiters), 0);
	free_pool();
}
END_TEST

START_TEST(test_frame_acquire_times_out_and_leaves_no_waiter_behind)
{
	uint32_t hint = 0, index, generation;

	make_pool(1);
	ck_assert_int_eq(frame_acquire(&pool.fp, 1, slot_of(1), &hint, 0, &index, &generation), 0);
	ck_assert_int_eq(frame_acquire(&pool.fp, 2, slot_of(2), &hint, 50, &index, &generation),
			 -ETIMEDOUT);
	ck_assert_uint_eq(atomic_load(&pool.fp.shared->waiters), 0);
	ck_assert_uint_eq(frame_slot_waiting(slot_of(2)), 0);
	ck_assert_uint_eq(atomic_load(&slot_of(2)->timeouts), 1);
	free_pool();
}
END_TEST

struct waiter {
	pthread_t thread;
	_Atomic pid_t tid; /* set by the thread itself */
	uint32_t session;
	uint32_t timeout_ms;
	int result;
	uint32_t index, generation;
};

static void *wait_for_frame(void *arg)
{
	struct waiter *w = arg;
	uint32_t hint = 0;

	atomic_store(&w->tid, gettid());
	w->result = frame_acquire(&pool.fp, w->session, slot_of(w->session), &hint, w->timeout_ms,
				  &w->index, &w->generation);
	return NULL;
}

/* Waits (without sleeping) until @n threads of @session are counted as waiting. */
static void until_waiting(uint32_t session, uint32_t n)
{
	while (frame_slot_waiting(slot_of(session)) < n)
		sched_yield();
}

START_TEST(test_frame_release_hands_the_frame_to_the_waiter)
{
	struct waiter w = { .session = 2, .timeout_ms = FRAME_INFINITE };
	uint32_t hint = 0, index, generation;

	make_pool(1);
	ck_assert_int_eq(frame_acquire(&pool.fp, 1, slot_of(1), &hint, 0, &index, &generation), 0);
	pthread_create(&w.thread, NULL, wait_for_frame, &w);
	until_waiting(2, 1);
	ck_assert_int_eq(frame_release(&pool.fp, 1, index, generation), 0);
	/* Handed over in the release itself: nobody else could have taken it. */
	ck_assert_uint_eq(shm_owner_tenant(atomic_load(&pool.fp.frames[index].owner)), 2);
	ck_assert_int_eq(frame_try_acquire(&pool.fp, 1, slot_of(1), &hint, &index, &generation),
			 -EAGAIN);
	pthread_join(w.thread, NULL);
	ck_assert_int_eq(w.result, 0);
	ck_assert_uint_eq(w.index, index);
	ck_assert_uint_eq(w.generation, generation + 1);
	ck_assert_uint_eq(atomic_load(&pool.fp.shared->waiters), 0);
	ck_assert_int_eq(frame_release(&pool.fp, 2, w.index, w.generation), 0);
	ck_assert_uint_eq(frame_count_owned(&pool.fp), 0);
	free_pool();
}
END_TEST

/*
 * Waits (without sleeping) until @w's thread is counted as waiting and asleep
 * in the kernel: a waiter that is still looking for a free frame may take one
 * that a release frees before handing it over, so order is only promised
 * among waiters that wait.
 */
static void until_asleep(struct waiter *w)
{
	char path[64], stat[256], *state;
	pid_t tid;

	until_waiting(w->session, 1);
	while ((tid = atomic_load(&w->tid)) == 0)
		sched_yield();
	snprintf(path, sizeof(path), "/proc/self/task/%d/stat", (int)tid);
	for (;;) {
		FILE *f = fopen(path, "re");

		ck_assert_ptr_nonnull(f);
		ck_assert_ptr_nonnull(fgets(stat, sizeof(stat), f));
		fclose(f);
		state = strrchr(stat, ')');
		if (state && state[2] == 'S')
			return;
		sched_yield();
	}
}

START_TEST(test_frame_waiting_sessions_are_served_in_order)
{
	struct waiter w[3] = {
		{ .session = 2, .timeout_ms = FRAME_INFINITE },
		{ .session = 3, .timeout_ms = FRAME_INFINITE },
		{ .session = 4, .timeout_ms = FRAME_INFINITE },
	};
	uint32_t hint = 0, index, generation;

	make_pool(1);
	ck_assert_int_eq(frame_acquire(&pool.fp, 1, slot_of(1), &hint, 0, &index, &generation), 0);
	for (int i = 0; i < 3; i++) {
		pthread_create(&w[i].thread, NULL, wait_for_frame, &w[i]);
		until_asleep(&w[i]);
	}
	/* Each release goes to the longest waiter, who passes it on when done. */
	ck_assert_int_eq(frame_release(&pool.fp, 1, index, generation), 0);
	for (int i = 0; i < 3; i++) {
		pthread_join(w[i].thread, NULL);
		ck_assert_int_eq(w[i].result, 0);
		ck_assert_int_eq(frame_release(&pool.fp, w[i].session, w[i].index, w[i].generation),
				 0);
		/* The generation counts the hand-overs: i + 2 acquisitions so far. */
		ck_assert_uint_eq(w[i].generation, (uint32_t)i + 2);
	}
	free_pool();
}
END_TEST

/* Session 1 releases and re-acquires as fast as it can; the waiter must still get frames. */
static void *hog(void *arg)
{
	_Atomic int *stop = arg;
	uint32_t hint = 0, index, generation;

	while (!atomic_load(stop)) {
		if (frame_acquire(&pool.fp, 1, slot_of(1), &hint, FRAME_INFINITE, &index,
				  &generation) == 0)
			frame_release(&pool.fp, 1, index, generation);
	}
	return NULL;
}

START_TEST(test_frame_waiter_is_not_starved_by_a_looping_releaser)
{
	_Atomic int stop = 0;
	pthread_t thread;
	uint32_t hint = 0, index, generation;

	make_pool(1);
	pthread_create(&thread, NULL, hog, &stop);
	/* A thousand frames for the waiter while the hog loops: barging would starve it. */
	for (int i = 0; i < 1000; i++) {
		ck_assert_int_eq(frame_acquire(&pool.fp, 2, slot_of(2), &hint, FRAME_INFINITE,
					       &index, &generation),
				 0);
		ck_assert_int_eq(frame_release(&pool.fp, 2, index, generation), 0);
	}
	atomic_store(&stop, 1);
	pthread_join(thread, NULL);
	ck_assert_uint_eq(frame_count_owned(&pool.fp), 0);
	ck_assert_uint_eq(atomic_load(&pool.fp.shared->waiters), 0);
	free_pool();
}
END_TEST

START_TEST(test_frame_decommit_wakes_waiters_with_shutdown)
{
	struct waiter w[2] = {
		{ .session = 2, .timeout_ms = FRAME_INFINITE },
		{ .session = 3, .timeout_ms = 60000 },
	};
	uint32_t hint = 0, index, generation;

	make_pool(1);
	ck_assert_int_eq(frame_acquire(&pool.fp, 1, slot_of(1), &hint, 0, &index, &generation), 0);
	for (int i = 0; i < 2; i++) {
		pthread_create(&w[i].thread, NULL, wait_for_frame, &w[i]);
		until_waiting(w[i].session, 1);
	}
	frame_set_state(&pool.fp, SHM_STATE_DECOMMITTED);
	for (int i = 0; i < 2; i++) {
		pthread_join(w[i].thread, NULL);
		ck_assert_int_eq(w[i].result, -ESHUTDOWN);
	}
	/* Held frames stay held and can be released; new acquisitions fail. */
	ck_assert_int_eq(frame_acquire(&pool.fp, 2, slot_of(2), &hint, 0, &index, &generation),
			 -ESHUTDOWN);
	ck_assert_int_eq(frame_release(&pool.fp, 1, 0, 1), 0);
	ck_assert_int_eq(frame_acquire(&pool.fp, 2, slot_of(2), &hint, 0, &index, &generation),
			 -ESHUTDOWN);
	frame_set_state(&pool.fp, SHM_STATE_COMMITTED);
	ck_assert_int_eq(frame_acquire(&pool.fp, 2, slot_of(2), &hint, 0, &index, &generation), 0);
	ck_assert_uint_eq(atomic_load(&pool.fp.shared->waiters), 0);
	free_pool();
}
END_TEST

START_TEST(test_frame_reclaim_frees_a_dead_sessions_frames_and_serves_waiters)
{
	struct waiter w = { .session = 3, .timeout_ms = FRAME_INFINITE };
	uint32_t hint = 0, index, generation;
	int status;
	pid_t child;

	make_pool(2);
	/* A child takes both frames as session 2 and dies holding them. */
	child = fork();
	if (child == 0) {
		uint32_t h = 0, i, g;

		frame_acquire(&pool.fp, 2, slot_of(2), &h, 0, &i, &g);
		frame_acquire(&pool.fp, 2, slot_of(2), &h, 0, &i, &g);
		raise(SIGKILL);
	}
	ck_assert_int_eq(waitpid(child, &status, 0), child);
	ck_assert(WIFSIGNALED(status));
	ck_assert_uint_eq(frame_count_owned(&pool.fp), 2);

	pthread_create(&w.thread, NULL, wait_for_frame, &w);
	until_waiting(3, 1);
	ck_assert_uint_eq(frame_reclaim(&pool.fp, 2, slot_of(2)), 2);
	pthread_join(w.thread, NULL);
	ck_assert_int_eq(w.result, 0);
	/* One frame went to the waiter, the other is free. */
	ck_assert_uint_eq(frame_count_owned(&pool.fp), 1);
	ck_assert_int_eq(frame_acquire(&pool.fp, 1, slot_of(1), &hint, 0, &index, &generation), 0);
	ck_assert_uint_eq(frame_reclaim(&pool.fp, 2, slot_of(2)), 0);
	free_pool();
}
END_TEST

START_TEST(test_frame_reclaim_takes_a_dead_waiters_count_out)
{
	uint32_t hint = 0, index, generation;
	int status;
	pid_t child;

	make_pool(1);
	ck_assert_int_eq(frame_acquire(&pool.fp, 1, slot_of(1), &hint, 0, &index, &generation), 0);
	child = fork();
	if (child == 0) {
		uint32_t h = 0, i, g;

		frame_acquire(&pool.fp, 2, slot_of(2), &h, FRAME_INFINITE, &i, &g);
		_exit(1);
	}
	until_waiting(2, 1);
	kill(child, SIGKILL);
	ck_assert_int_eq(waitpid(child, &status, 0), child);
	ck_assert_uint_eq(atomic_load(&pool.fp.shared->waiters), 1);
	ck_assert_uint_eq(frame_reclaim(&pool.fp, 2, slot_of(2)), 0);
	ck_assert_uint_eq(atomic_load(&pool.fp.shared->waiters), 0);
	/* With nobody waiting any more, a release leaves its frame free. */
	ck_assert_int_eq(frame_release(&pool.fp, 1, index, generation), 0);
	ck_assert_uint_eq(frame_count_owned(&pool.fp), 0);
	free_pool();
}
END_TEST

START_TEST(test_frame_reclaim_wakes_a_waiter_handed_a_frame_by_a_releaser_that_died)
{
	struct waiter w = { .session = 2, .timeout_ms = FRAME_INFINITE };
	uint32_t hint = 0, index, generation;

	make_pool(1);
	ck_assert_int_eq(frame_acquire(&pool.fp, 1, slot_of(1), &hint, 0, &index, &generation), 0);
	pthread_create(&w.thread, NULL, wait_for_frame, &w);
	until_waiting(2, 1);
	/*
	 * Session 1 releases, hands the frame over to session 2 (its booking and its CAS, as
	 * hand_over() does them) and dies before it wakes session 2.
	 */
	atomic_fetch_add(&slot_of(2)->handed, 1);
	atomic_store(&pool.fp.frames[index].owner,
		     shm_owner(2, ((generation + 1) & SHM_GENERATION_MASK) | SHM_HANDOFF));
	ck_assert_uint_eq(frame_reclaim(&pool.fp, 1, slot_of(1)), 0);
	pthread_join(w.thread, NULL);
	ck_assert_int_eq(w.result, 0);
	ck_assert_uint_eq(w.index, index);
	ck_assert_uint_eq(w.generation, generation + 1);
	free_pool();
}
END_TEST

/* A waiter with a liveness check that says "alive" @alive_calls times, then -ESHUTDOWN. */
struct checked_waiter {
	struct waiter w;
	uint32_t slice_ms;
	int alive_calls;
	_Atomic int calls;
};

static int count_and_answer(void *userdata)
{
	struct checked_waiter *cw = userdata;
	int n = atomic_fetch_add(&cw->calls, 1) + 1;

	return cw->alive_calls >= 0 && n > cw->alive_calls ? -ESHUTDOWN : 0;
}

static void *wait_checked(void *arg)
{
	struct checked_waiter *cw = arg;
	struct frame_liveness live = {
		.check = count_and_answer,
		.userdata = cw,
		.slice_ms = cw->slice_ms,
	};
	uint32_t hint = 0;

	cw->w.result = frame_acquire_checked(&pool.fp, cw->w.session, slot_of(cw->w.session), &hint,
					     cw->w.timeout_ms, &live, &cw->w.index,
					     &cw->w.generation);
	return NULL;
}

START_TEST(test_frame_waiter_returns_what_its_liveness_check_says_between_slices)
{
	struct checked_waiter cw = {
		.w = { .session = 2, .timeout_ms = FRAME_INFINITE },
		.slice_ms = 5,
		.alive_calls = 2,
	};
	uint32_t hint = 0, index, generation;

	make_pool(1);
	ck_assert_int_eq(frame_acquire(&pool.fp, 1, slot_of(1), &hint, 0, &index, &generation), 0);
	pthread_create(&cw.w.thread, NULL, wait_checked, &cw);
	pthread_join(cw.w.thread, NULL);
	ck_assert_int_eq(cw.w.result, -ESHUTDOWN);
	ck_assert_int_eq(atomic_load(&cw.calls), 3);
	/* It left no count behind, and took no frame. */
	ck_assert_uint_eq(atomic_load(&pool.fp.shared->waiters), 0);
	ck_assert_uint_eq(frame_slot_waiting(slot_of(2)), 0);
	ck_assert_uint_eq(frame_count_owned(&pool.fp), 1);
	free_pool();
}
END_TEST

START_TEST(test_frame_waiter_that_asks_its_liveness_check_keeps_its_turn)
{
	struct checked_waiter first = {
		.w = { .session = 2, .timeout_ms = FRAME_INFINITE },
		.slice_ms = 1,
		.alive_calls = -1, /* always alive */
	};
	struct waiter second = { .session = 3, .timeout_ms = FRAME_INFINITE };
	uint32_t hint = 0, index, generation;

	make_pool(1);
	ck_assert_int_eq(frame_acquire(&pool.fp, 1, slot_of(1), &hint, 0, &index, &generation), 0);
	pthread_create(&first.w.thread, NULL, wait_checked, &first);
	until_waiting(2, 1);
	pthread_create(&second.thread, NULL, wait_for_frame, &second);
	until_waiting(3, 1);
	/* The first has woken to ask, after the second started to wait. */
	for (int seen = atomic_load(&first.calls); atomic_load(&first.calls) < seen + 2;)
		sched_yield();
	ck_assert_int_eq(frame_release(&pool.fp, 1, index, generation), 0);
	pthread_join(first.w.thread, NULL);
	ck_assert_int_eq(first.w.result, 0);
	ck_assert_uint_eq(frame_slot_waiting(slot_of(3)), 1);
	ck_assert_int_eq(frame_release(&pool.fp, 2, first.w.index, first.w.generation), 0);
	pthread_join(second.thread, NULL);
	ck_assert_int_eq(second.result, 0);
	free_pool();
}
END_TEST

/* Threads of 4 sessions hammer a small pool; each frame carries its owner's mark. */
struct storm {
	uint32_t session;
	int rounds;
	int errors;
};

static void *storm_thread(void *arg)
{
	struct storm *s = arg;
	uint32_t hint = s->session, index, generation;

	for (int i = 0; i < s->rounds; i++) {
		uint32_t *data;

		if (frame_acquire(&pool.fp, s->session, slot_of(s->session), &hint, FRAME_INFINITE,
				  &index, &generation) < 0) {
			s->errors++;
			continue;
		}
		data = frame_data(&pool.fp, index);
		for (int k = 0; k < 16; k++)
			data[k] = s->session << 24 | (uint32_t)i;
		for (int k = 0; k < 16; k++)
			if (data[k] != (s->session << 24 | (uint32_t)i))
				s->errors++;
		if (frame_release(&pool.fp, s->session, index, generation) < 0)
			s->errors++;
	}
	return NULL;
}

START_TEST(test_frame_storm_of_four_sessions_keeps_every_frame_exclusive)
{
	struct storm s[N_SLOTS];
	pthread_t t[N_SLOTS];

	make_pool(2);
	for (uint32_t i = 0; i < N_SLOTS; i++) {
		s[i] = (struct storm){ .session = i + 1, .rounds = 20000 };
		pthread_create(&t[i], NULL, storm_thread, &s[i]);
	}
	for (uint32_t i = 0; i < N_SLOTS; i++) {
		pthread_join(t[i], NULL);
		ck_assert_int_eq(s[i].errors, 0);
	}
	ck_assert_uint_eq(frame_count_owned(&pool.fp), 0);
	ck_assert_uint_eq(atomic_load(&pool.fp.shared->allocated), 0);
	ck_assert_uint_eq(atomic_load(&pool.fp.shared->waiters), 0);
	ck_assert_uint_le(atomic_load(&pool.fp.shared->peak), 2);
	free_pool();
}
END_TEST

int main(void)
{
	Suite *s = suite_create("frame");
	TCase *tc;

	tc = tcase_create("ownership");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_frame_acquire_takes_every_frame_once_then_reports_empty);
	tcase_add_test(tc, test_frame_release_refuses_what_is_not_the_callers);
	tcase_add_test(tc, test_frame_generation_wraps_within_31_bits);
	suite_add_tcase(s, tc);

	tc = tcase_create("waiting");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_frame_acquire_with_zero_timeout_fails_at_once);
	tcase_add_test(tc, test_frame_acquire_times_out_and_leaves_no_waiter_behind);
	tcase_add_test(tc, test_frame_release_hands_the_frame_to_the_waiter);
	tcase_add_test(tc, test_frame_waiting_sessions_are_served_in_order);
	tcase_add_test(tc, test_frame_waiter_is_not_starved_by_a_looping_releaser);
	tcase_add_test(tc, test_frame_decommit_wakes_waiters_with_shutdown);
	tcase_add_test(tc, test_frame_waiter_returns_what_its_liveness_check_says_between_slices);
	tcase_add_test(tc, test_frame_waiter_that_asks_its_liveness_check_keeps_its_turn);
	suite_add_tcase(s, tc);

	tc = tcase_create("reclaim");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_frame_reclaim_frees_a_dead_sessions_frames_and_serves_waiters);
	tcase_add_test(tc, test_frame_reclaim_takes_a_dead_waiters_count_out);
	tcase_add_test(tc,
		       test_frame_reclaim_wakes_a_waiter_handed_a_frame_by_a_releaser_that_died);
	tcase_add_test(tc, test_frame_storm_of_four_sessions_keeps_every_frame_exclusive);
	suite_add_tcase(s, tc);

	return ksalloc_check_run(s);
}

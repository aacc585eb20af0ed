/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * IMemAllocator and IMediaSample over the real ksallocd: the second interface of the object
 * KsOpenAllocator() returns, its DirectShow contract (IMemAllocator's, as the SDK documents it) as
 * it maps onto a pool that the daemon owns, and the samples it hands out.
 */
#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <ksalloc/ksalloc.h>
#include <ksalloc/ksproxy.h>

#include "tests/lib/harness.h"
#include "tests/lib/ksalloc-check.h"

/* HRESULTs are signed: compare bit patterns, so failures print as the hex Windows documents. */
#define ck_assert_hr_eq(hr, expected) ck_assert_uint_eq((uint32_t)(hr), (uint32_t)(expected))

/*
 * "video": a config pool of 4 frames; "single": a config pool of one frame, for handing data
 * from process to process; a small max_frame_size, so that a reshape can break a limit.
 */
static const char pools[] = "[daemon]\n"
			    "log_level = debug\n"
			    "max_frame_size = 256K\n"
			    "\n"
			    "[pool video]\n"
			    "frames = 4\n"
			    "frame_size = 4096\n"
			    "alignment = 64\n"
			    "\n"
			    "[pool single]\n"
			    "frames = 1\n"
			    "frame_size = 4096\n"
			    "alignment = 64\n"
			    "\n"
			    "[pool odd]\n"
			    "frames = 2\n"
			    "frame_size = 1000\n"
			    "alignment = 64\n";

static struct test_daemon daemon_;

static void start(void)
{
	test_daemon_up(&daemon_, pools);
}

static void stop(void)
{
	test_daemon_down(&daemon_);
}

/* Opens @pool and returns its IMemAllocator; *ret_ex receives the IKsAllocatorEx. */
static IMemAllocator *open_mem(const char *pool, IKsAllocatorEx **ret_ex)
{
	IMemAllocator *mem = NULL;

	ck_assert_hr_eq(KsOpenAllocator(pool, ret_ex), S_OK);
	ck_assert_hr_eq(IKsAllocatorEx_QueryInterface(*ret_ex, &IID_IMemAllocator, (void **)&mem),
			S_OK);
	ck_assert_ptr_nonnull(mem);
	return mem;
}

/* Releases both pointers of one object; the last must free it. */
static void close_mem(IMemAllocator *mem, IKsAllocatorEx *ex)
{
	ck_assert_uint_eq(IMemAllocator_Release(mem), 1);
	ck_assert_uint_eq(IKsAllocatorEx_Release(ex), 0);
}

static KSSTREAMALLOCATOR_STATUS status_of(IKsAllocatorEx *ex)
{
	KSSTREAMALLOCATOR_STATUS st;

	ck_assert_hr_eq(IKsAllocatorEx_KsGetAllocatorStatus(ex, &st), S_OK);
	return st;
}

static IMediaSample *get_buffer(IMemAllocator *mem)
{
	IMediaSample *sample = NULL;

	ck_assert_hr_eq(IMemAllocator_GetBuffer(mem, &sample, NULL, NULL, 0), S_OK);
	ck_assert_ptr_nonnull(sample);
	return sample;
}

static BYTE *pointer_of(IMediaSample *sample)
{
	BYTE *p = NULL;

	ck_assert_hr_eq(IMediaSample_GetPointer(sample, &p), S_OK);
	ck_assert_ptr_nonnull(p);
	return p;
}

/* ---- interfaces -------------------------------------------------------------------------- */

START_TEST(test_query_interface_goes_both_ways_with_one_identity)
{
	IKsAllocatorEx *ex, *ex2 = NULL;
	IKsAllocator *ks = NULL;
	IMemAllocator *mem;
	IMemAllocatorCallbackTemp *cb = NULL;
	IUnknown *unk_ex = NULL, *unk_mem = NULL;
	void *other = (void *)1;

	start();
	mem = open_mem("video", &ex);
	ck_assert_ptr_ne(mem, ex);

	/* From IMemAllocator back to the KS interfaces: the object's first pointer. */
	ck_assert_hr_eq(IMemAllocator_QueryInterface(mem, &IID_IKsAllocatorEx, (void **)&ex2),
			S_OK);
	ck_assert_ptr_eq(ex2, ex);
	ck_assert_hr_eq(IMemAllocator_QueryInterface(mem, &IID_IKsAllocator, (void **)&ks), S_OK);
	ck_assert_ptr_eq(ks, ex);

	/* IUnknown is the same pointer whichever interface is asked. */
	ck_assert_hr_eq(IKsAllocatorEx_QueryInterface(ex, &IID_IUnknown, (void **)&unk_ex), S_OK);
	ck_assert_hr_eq(IMemAllocator_QueryInterface(mem, &IID_IUnknown, (void **)&unk_mem), S_OK);
	ck_assert_ptr_eq(unk_ex, unk_mem);
	ck_assert_ptr_eq(unk_ex, ex);

	/* The callback interface extends IMemAllocator: the same second pointer. */
	ck_assert_hr_eq(IKsAllocatorEx_QueryInterface(ex, &IID_IMemAllocatorCallbackTemp,
						      (void **)&cb),
			S_OK);
	ck_assert_ptr_eq(cb, mem);

	ck_assert_hr_eq(IMemAllocator_QueryInterface(mem, &IID_IMediaSample, &other),
			E_NOINTERFACE);
	ck_assert_ptr_null(other);
	ck_assert_hr_eq(IMemAllocator_QueryInterface(mem, &IID_IKsPin, &other), E_NOINTERFACE);
	ck_assert_hr_eq(IMemAllocator_QueryInterface(mem, &IID_IUnknown, NULL), E_POINTER);

	/* One count: ex, mem, ex2, ks, unk_ex, unk_mem, cb. */
	ck_assert_uint_eq(IMemAllocatorCallbackTemp_Release(cb), 6);
	ck_assert_uint_eq(IUnknown_Release(unk_mem), 5);
	ck_assert_uint_eq(IUnknown_Release(unk_ex), 4);
	ck_assert_uint_eq(IKsAllocator_Release(ks), 3);
	ck_assert_uint_eq(IKsAllocatorEx_Release(ex2), 2);
	close_mem(mem, ex);
	stop();
}
END_TEST

START_TEST(test_both_interfaces_share_one_reference_count)
{
	IKsAllocatorEx *ex;
	IMemAllocator *mem;

	start();
	mem = open_mem("video", &ex);
	ck_assert_uint_eq(IMemAllocator_AddRef(mem), 3);
	ck_assert_uint_eq(IKsAllocatorEx_AddRef(ex), 4);
	/* A reference taken through one pointer may be dropped through the other. */
	ck_assert_uint_eq(IKsAllocatorEx_Release(ex), 3);
	ck_assert_uint_eq(IKsAllocatorEx_Release(ex), 2);
	/* The object lives while any pointer is held: release the first one first. */
	ck_assert_uint_eq(IKsAllocatorEx_Release(ex), 1);
	ck_assert_hr_eq(IMemAllocator_Commit(mem), S_OK);
	ck_assert_uint_eq(IMemAllocator_Release(mem), 0);
	stop();
}
END_TEST

/* ---- buffers ----------------------------------------------------------------------------- */

START_TEST(test_get_buffer_hands_out_frames_of_the_pool_as_samples)
{
	IMediaSample *samples[4];
	IKsAllocatorEx *ex;
	IMemAllocator *mem;
	ALLOCATOR_PROPERTIES props;

	start();
	mem = open_mem("video", &ex);
	ck_assert_hr_eq(IMemAllocator_GetProperties(mem, &props), S_OK);
	ck_assert_int_eq(props.cBuffers, 4);
	ck_assert_int_eq(props.cbBuffer, 4096);
	ck_assert_int_eq(props.cbAlign, 64);
	ck_assert_int_eq(props.cbPrefix, 0);

	for (int i = 0; i < 4; i++) {
		BYTE *p;

		samples[i] = get_buffer(mem);
		p = pointer_of(samples[i]);
		ck_assert_uint_eq((uintptr_t)p % 64, 0);
		ck_assert_int_eq(IMediaSample_GetSize(samples[i]), 4096);
		ck_assert_int_eq(IMediaSample_GetActualDataLength(samples[i]), 4096);
		memset(p, 'a' + i, 4096);
		ck_assert_uint_eq(status_of(ex).AllocatedFrames, (ULONG)i + 1);
	}
	/* The data stays where it was written: no two samples share memory. */
	for (int i = 0; i < 4; i++) {
		BYTE *p = pointer_of(samples[i]);

		ck_assert_int_eq(p[0], 'a' + i);
		ck_assert_int_eq(p[4095], 'a' + i);
	}
	for (int i = 0; i < 4; i++)
		ck_assert_uint_eq(IMediaSample_Release(samples[i]), 0);
	ck_assert_uint_eq(status_of(ex).AllocatedFrames, 0);
	close_mem(mem, ex);
	stop();
}
END_TEST

/* The child's side: take the one frame of "single", check the parent's bytes, answer. */
static int single_frame_client(void)
{
	IMemAllocator *mem = NULL;
	IMediaSample *sample = NULL;
	IKsAllocatorEx *ex;
	BYTE *p = NULL;
	int status = 0;

	if (FAILED(KsOpenAllocator("single", &ex)))
		return 10;
	if (FAILED(IKsAllocatorEx_QueryInterface(ex, &IID_IMemAllocator, (void **)&mem)))
		return 11;
	if (FAILED(IMemAllocator_GetBuffer(mem, &sample, NULL, NULL, AM_GBF_NOWAIT)))
		return 12;
	IMediaSample_GetPointer(sample, &p);
	/* No prefix here: the parent's 64-byte prefix is the start of our buffer. */
	if (IMediaSample_GetSize(sample) != 4096 || memcmp(p + 64, "from the parent", 16) != 0)
		status = 13;
	memcpy(p + 64, "from the child", 15);
	IMediaSample_Release(sample);
	IMemAllocator_Release(mem);
	if (IKsAllocatorEx_Release(ex) != 0)
		return 14;
	return status;
}

START_TEST(test_data_written_through_a_sample_reaches_another_process)
{
	ALLOCATOR_PROPERTIES req = { .cBuffers = 1,
				     .cbBuffer = 4096 - 64,
				     .cbAlign = 64,
				     .cbPrefix = 64 },
			     act;
	IMediaSample *sample;
	IKsAllocatorEx *ex;
	IMemAllocator *mem;
	BYTE *p;
	pid_t pid;
	int status;

	start();
	mem = open_mem("single", &ex);
	/* A prefix that keeps the frame size: no reshape, so a config pool takes it. */
	ck_assert_hr_eq(IMemAllocator_Decommit(mem), S_OK);
	ck_assert_hr_eq(IMemAllocator_SetProperties(mem, &req, &act), S_OK);
	ck_assert_int_eq(act.cbBuffer, 4096 - 64);
	ck_assert_hr_eq(IMemAllocator_Commit(mem), S_OK);

	sample = get_buffer(mem);
	p = pointer_of(sample);
	ck_assert_int_eq(IMediaSample_GetSize(sample), 4096 - 64);
	/* The prefix is at the start of the frame, and the frame start is aligned. */
	ck_assert_uint_eq((uintptr_t)(p - 64) % 64, 0);
	memcpy(p, "from the parent", 16);
	ck_assert_uint_eq(IMediaSample_Release(sample), 0);

	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		_exit(single_frame_client());
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child failed: %d", status);

	sample = get_buffer(mem);
	ck_assert_str_eq((const char *)pointer_of(sample), "from the child");
	IMediaSample_Release(sample);
	close_mem(mem, ex);
	stop();
}
END_TEST

START_TEST(test_nowait_on_an_exhausted_pool_times_out)
{
	IMediaSample *sample, *none = (IMediaSample *)1;
	IKsAllocatorEx *ex;
	IMemAllocator *mem;

	start();
	mem = open_mem("single", &ex);
	sample = get_buffer(mem);
	ck_assert_hr_eq(IMemAllocator_GetBuffer(mem, &none, NULL, NULL, AM_GBF_NOWAIT),
			VFW_E_TIMEOUT);
	ck_assert_ptr_null(none);
	ck_assert_hr_eq(IMemAllocator_GetBuffer(mem, NULL, NULL, NULL, 0), E_POINTER);
	IMediaSample_Release(sample);
	/* Free again: NOWAIT succeeds. */
	ck_assert_hr_eq(IMemAllocator_GetBuffer(mem, &sample, NULL, NULL, AM_GBF_NOWAIT), S_OK);
	IMediaSample_Release(sample);
	close_mem(mem, ex);
	stop();
}
END_TEST

struct churn {
	IMemAllocator *mem;
	int rounds;
	int failures;
};

static void *churn_thread(void *arg)
{
	struct churn *c = arg;

	for (int i = 0; i < c->rounds; i++) {
		IMediaSample *sample = NULL;
		BYTE *p = NULL;

		if (FAILED(IMemAllocator_GetBuffer(c->mem, &sample, NULL, NULL, 0))) {
			c->failures++;
			continue;
		}
		IMediaSample_GetPointer(sample, &p);
		memset(p, i, (size_t)IMediaSample_GetSize(sample));
		if (p[0] != (BYTE)i || p[4095] != (BYTE)i)
			c->failures++;
		IMediaSample_Release(sample);
	}
	return NULL;
}

START_TEST(test_samples_from_many_threads_at_once_all_come_back)
{
	enum { N = 6 };
	struct churn churn[N];
	pthread_t threads[N];
	IKsAllocatorEx *ex;
	IMemAllocator *mem;

	start();
	/* More threads than frames, so that some wait and are handed frames. */
	mem = open_mem("video", &ex);
	for (int i = 0; i < N; i++) {
		churn[i] = (struct churn){ .mem = mem, .rounds = 300 };
		ck_assert_int_eq(pthread_create(&threads[i], NULL, churn_thread, &churn[i]), 0);
	}
	for (int i = 0; i < N; i++) {
		ck_assert_int_eq(pthread_join(threads[i], NULL), 0);
		ck_assert_int_eq(churn[i].failures, 0);
	}
	ck_assert_uint_eq(status_of(ex).AllocatedFrames, 0);
	close_mem(mem, ex);
	stop();
}
END_TEST

/* ---- commit ------------------------------------------------------------------------------ */

struct blocked {
	IMemAllocator *mem;
	IMediaSample *sample;
	HRESULT hr;
};

static void *blocked_get_buffer(void *arg)
{
	struct blocked *b = arg;

	b->hr = IMemAllocator_GetBuffer(b->mem, &b->sample, NULL, NULL, 0);
	return NULL;
}

/* The daemon's statistics of @pool, through a client of the test's own. */
static struct ksalloc_pool_stats stats_of(struct ksalloc_client *client, const char *pool)
{
	struct ksalloc_pool_stats stats;

	ck_assert_int_eq(ksalloc_client_pool_stats(client, pool, &stats), 0);
	free(stats.holders);
	stats.holders = NULL;
	return stats;
}

/* Waits, by asking the daemon, until a thread waits for a frame of @pool. */
static void wait_for_a_waiter(const char *pool)
{
	struct ksalloc_client *client;

	ck_assert_int_eq(ksalloc_client_open(NULL, &client), 0);
	while (stats_of(client, pool).waiters == 0)
		;
	ksalloc_client_close(client);
}

/*
 * Waits, by asking the daemon, until @pool is open in @sessions sessions. A session that
 * closes reaches the daemon on its own socket, in no fixed order with the requests of others.
 */
static void wait_for_sessions(const char *pool, uint32_t sessions)
{
	struct ksalloc_client *client;

	ck_assert_int_eq(ksalloc_client_open(NULL, &client), 0);
	while (stats_of(client, pool).sessions != sessions)
		;
	ksalloc_client_close(client);
}

START_TEST(test_decommit_wakes_a_thread_blocked_in_get_buffer)
{
	struct blocked b = { .sample = (IMediaSample *)1 };
	IMediaSample *held;
	IKsAllocatorEx *ex;
	pthread_t thread;
	BYTE *p;

	start();
	b.mem = open_mem("single", &ex);
	held = get_buffer(b.mem);
	ck_assert_int_eq(pthread_create(&thread, NULL, blocked_get_buffer, &b), 0);
	wait_for_a_waiter("single");

	ck_assert_hr_eq(IMemAllocator_Decommit(b.mem), S_OK);
	ck_assert_int_eq(pthread_join(thread, NULL), 0);
	ck_assert_hr_eq(b.hr, VFW_E_NOT_COMMITTED);
	ck_assert_ptr_null(b.sample);

	/* The sample held across the decommit stays valid and writable. */
	p = pointer_of(held);
	memset(p, 0x5a, 4096);
	ck_assert_int_eq(p[4095], 0x5a);
	ck_assert_uint_eq(IMediaSample_Release(held), 0);
	close_mem(b.mem, ex);
	stop();
}
END_TEST

START_TEST(test_get_buffer_fails_after_decommit_and_works_after_commit)
{
	IMediaSample *sample = (IMediaSample *)1;
	IKsAllocatorEx *ex;
	IMemAllocator *mem;

	start();
	mem = open_mem("video", &ex);
	/* Config pools start committed, and so does a new object on one. */
	ck_assert_hr_eq(IMemAllocator_Commit(mem), S_OK);
	ck_assert_hr_eq(IMemAllocator_Decommit(mem), S_OK);
	ck_assert_hr_eq(IMemAllocator_Decommit(mem), S_OK);
	ck_assert_hr_eq(IMemAllocator_GetBuffer(mem, &sample, NULL, NULL, 0), VFW_E_NOT_COMMITTED);
	ck_assert_ptr_null(sample);
	ck_assert_hr_eq(IMemAllocator_GetBuffer(mem, &sample, NULL, NULL, AM_GBF_NOWAIT),
			VFW_E_NOT_COMMITTED);
	ck_assert_hr_eq(IMemAllocator_Commit(mem), S_OK);
	sample = get_buffer(mem);
	IMediaSample_Release(sample);
	close_mem(mem, ex);
	stop();
}
END_TEST

START_TEST(test_commit_and_decommit_act_on_the_pool_for_every_process)
{
	IKsAllocatorEx *ex, *ex2;
	IMemAllocator *mem, *mem2;
	IMediaSample *sample = NULL;
	KSALLOC_FRAME frame;

	start();
	mem = open_mem("video", &ex);
	ck_assert_hr_eq(IMemAllocator_Decommit(mem), S_OK);
	/* A new object follows its pool: decommitted now. */
	mem2 = open_mem("video", &ex2);
	ck_assert_hr_eq(IMemAllocator_GetBuffer(mem2, &sample, NULL, NULL, 0), VFW_E_NOT_COMMITTED);
	ck_assert_hr_eq(KsAllocateFrame(ex2, 0, &frame), VFW_E_NOT_COMMITTED);
	/* Committed through the first object, the pool serves the second one's frames too. */
	ck_assert_hr_eq(IMemAllocator_Commit(mem), S_OK);
	ck_assert_hr_eq(KsAllocateFrame(ex2, 0, &frame), S_OK);
	ck_assert_hr_eq(KsFreeFrame(ex2, &frame), S_OK);
	/* The second object never committed; Commit makes its own view agree. */
	ck_assert_hr_eq(IMemAllocator_Commit(mem2), S_OK);
	sample = get_buffer(mem2);
	IMediaSample_Release(sample);
	close_mem(mem2, ex2);
	close_mem(mem, ex);
	stop();
}
END_TEST

/* ---- properties -------------------------------------------------------------------------- */

START_TEST(test_set_properties_is_refused_while_committed)
{
	ALLOCATOR_PROPERTIES req = { 4, 4096, 64, 0 }, act = { 0 };
	IKsAllocatorEx *ex;
	IMemAllocator *mem;

	start();
	mem = open_mem("video", &ex);
	ck_assert_hr_eq(IMemAllocator_SetProperties(mem, &req, &act), VFW_E_ALREADY_COMMITTED);
	/* pActual is untouched on failure. */
	ck_assert_int_eq(act.cBuffers, 0);
	ck_assert_hr_eq(IMemAllocator_Decommit(mem), S_OK);
	ck_assert_hr_eq(IMemAllocator_SetProperties(mem, &req, &act), S_OK);
	close_mem(mem, ex);
	stop();
}
END_TEST

START_TEST(test_set_properties_is_refused_while_a_frame_is_out)
{
	ALLOCATOR_PROPERTIES req = { 4, 4096, 64, 0 }, act;
	IMediaSample *sample;
	KSALLOC_FRAME frame;
	IKsAllocatorEx *ex;
	IMemAllocator *mem;

	start();
	mem = open_mem("video", &ex);
	sample = get_buffer(mem);
	ck_assert_hr_eq(IMemAllocator_Decommit(mem), S_OK);
	ck_assert_hr_eq(IMemAllocator_SetProperties(mem, &req, &act), VFW_E_BUFFERS_OUTSTANDING);
	IMediaSample_Release(sample);
	ck_assert_hr_eq(IMemAllocator_SetProperties(mem, &req, &act), S_OK);

	/* A frame taken through KsAllocateFrame is a frame of this object too. */
	ck_assert_hr_eq(IMemAllocator_Commit(mem), S_OK);
	ck_assert_hr_eq(KsAllocateFrame(ex, 0, &frame), S_OK);
	ck_assert_hr_eq(IMemAllocator_Decommit(mem), S_OK);
	ck_assert_hr_eq(IMemAllocator_SetProperties(mem, &req, &act), VFW_E_BUFFERS_OUTSTANDING);
	ck_assert_hr_eq(KsFreeFrame(ex, &frame), S_OK);
	ck_assert_hr_eq(IMemAllocator_SetProperties(mem, &req, &act), S_OK);
	close_mem(mem, ex);
	stop();
}
END_TEST

START_TEST(test_set_properties_checks_its_arguments)
{
	static const LONG bad_alignments[] = { 0, 3, 48, 8192, -64 };
	ALLOCATOR_PROPERTIES req = { 4, 4096, 64, 0 }, act;
	IKsAllocatorEx *ex;
	IMemAllocator *mem;

	start();
	mem = open_mem("video", &ex);
	ck_assert_hr_eq(IMemAllocator_Decommit(mem), S_OK);
	ck_assert_hr_eq(IMemAllocator_SetProperties(mem, NULL, &act), E_POINTER);
	ck_assert_hr_eq(IMemAllocator_SetProperties(mem, &req, NULL), E_POINTER);
	ck_assert_hr_eq(IMemAllocator_GetProperties(mem, NULL), E_POINTER);
	for (size_t i = 0; i < sizeof(bad_alignments) / sizeof(bad_alignments[0]); i++) {
		req.cbAlign = bad_alignments[i];
		ck_assert_hr_eq(IMemAllocator_SetProperties(mem, &req, &act), VFW_E_BADALIGN);
	}
	/* A page is the most: frames are at most page aligned. */
	req.cbAlign = 4096;
	ck_assert_hr_eq(IMemAllocator_SetProperties(mem, &req, &act), S_OK);
	req.cbBuffer = -1;
	ck_assert_hr_eq(IMemAllocator_SetProperties(mem, &req, &act), E_INVALIDARG);
	req.cbBuffer = INT32_MAX;
	ck_assert_hr_eq(IMemAllocator_SetProperties(mem, &req, &act), E_INVALIDARG);
	close_mem(mem, ex);
	stop();
}
END_TEST

START_TEST(test_set_properties_rounds_like_cmemallocator)
{
	ALLOCATOR_PROPERTIES req = { .cBuffers = 3,
				     .cbBuffer = 1000,
				     .cbAlign = 64,
				     .cbPrefix = 16 },
			     act, now;
	PALLOCATOR_PROPERTIES_EX ex_props;
	IKsAllocatorEx *ex;
	IMemAllocator *mem;

	start();
	mem = open_mem("video", &ex);
	ck_assert_hr_eq(IMemAllocator_Decommit(mem), S_OK);
	ck_assert_hr_eq(IMemAllocator_SetProperties(mem, &req, &act), S_OK);
	/* 16 + 1000 rounds up to 1024: the buffer takes the slack. */
	ck_assert_int_eq(act.cBuffers, 3);
	ck_assert_int_eq(act.cbBuffer, 1008);
	ck_assert_int_eq(act.cbAlign, 64);
	ck_assert_int_eq(act.cbPrefix, 16);
	ck_assert_hr_eq(IMemAllocator_GetProperties(mem, &now), S_OK);
	ck_assert_mem_eq(&now, &act, sizeof(now));
	/* The IKsAllocatorEx view follows. */
	ex_props = IKsAllocatorEx_KsGetProperties(ex);
	ck_assert_int_eq(ex_props->cBuffers, 3);
	ck_assert_int_eq(ex_props->cbBuffer, 1008);
	ck_assert_int_eq(ex_props->cbAlign, 64);
	ck_assert_int_eq(ex_props->cbPrefix, 16);

	/* The same struct for both: pActual is written after pRequest is read. */
	req = (ALLOCATOR_PROPERTIES){ .cBuffers = 2, .cbBuffer = 1, .cbAlign = 1, .cbPrefix = 0 };
	ck_assert_hr_eq(IMemAllocator_SetProperties(mem, &req, &req), S_OK);
	ck_assert_int_eq(req.cbBuffer, 1);
	close_mem(mem, ex);
	stop();
}
END_TEST

START_TEST(test_commit_refuses_a_zero_size_or_count)
{
	ALLOCATOR_PROPERTIES req = { .cBuffers = 4, .cbBuffer = 0, .cbAlign = 64 }, act;
	IKsAllocatorEx *ex;
	IMemAllocator *mem;

	start();
	mem = open_mem("video", &ex);
	ck_assert_hr_eq(IMemAllocator_Decommit(mem), S_OK);
	/* Taken by SetProperties, refused by Commit, as Wine does. */
	ck_assert_hr_eq(IMemAllocator_SetProperties(mem, &req, &act), S_OK);
	ck_assert_hr_eq(IMemAllocator_Commit(mem), VFW_E_SIZENOTSET);
	req = (ALLOCATOR_PROPERTIES){ .cBuffers = 0, .cbBuffer = 4096, .cbAlign = 64 };
	ck_assert_hr_eq(IMemAllocator_SetProperties(mem, &req, &act), S_OK);
	ck_assert_hr_eq(IMemAllocator_Commit(mem), VFW_E_BUFFER_NOTSET);
	close_mem(mem, ex);
	stop();
}
END_TEST

START_TEST(test_commit_reshapes_a_created_pool_to_the_new_properties)
{
	KSALLOCATOR_FRAMING framing = { .Frames = 2, .FrameSize = 4096, .FileAlignment = 63 };
	ALLOCATOR_PROPERTIES req = { .cBuffers = 5,
				     .cbBuffer = 10000,
				     .cbAlign = 128,
				     .cbPrefix = 32 },
			     act;
	IMediaSample *samples[5];
	PALLOCATOR_PROPERTIES_EX ex_props;
	KSSTREAMALLOCATOR_STATUS st;
	IMemAllocator *mem = NULL;
	IKsAllocatorEx *ex;

	start();
	ck_assert_hr_eq(KsCreateNamedAllocator("made", &framing, &ex), S_OK);
	ck_assert_hr_eq(IKsAllocatorEx_QueryInterface(ex, &IID_IMemAllocator, (void **)&mem), S_OK);
	ck_assert_hr_eq(IMemAllocator_Decommit(mem), S_OK);
	ck_assert_hr_eq(IMemAllocator_SetProperties(mem, &req, &act), S_OK);
	/* 32 + 10000 = 10032, rounded up to 10112. */
	ck_assert_int_eq(act.cbBuffer, 10080);
	/* Nothing changes before Commit. */
	st = status_of(ex);
	ck_assert_uint_eq(st.Framing.Frames, 2);
	ck_assert_uint_eq(st.Framing.FrameSize, 4096);

	ck_assert_hr_eq(IMemAllocator_Commit(mem), S_OK);
	st = status_of(ex);
	ck_assert_uint_eq(st.Framing.Frames, 5);
	ck_assert_uint_eq(st.Framing.FrameSize, 10112);
	ck_assert_uint_eq(st.Framing.FileAlignment, 127);
	ck_assert_uint_eq(st.AllocatedFrames, 0);
	ex_props = IKsAllocatorEx_KsGetProperties(ex);
	ck_assert_int_eq(ex_props->cBuffers, 5);
	ck_assert_int_eq(ex_props->cbBuffer, 10080);
	ck_assert_int_eq(ex_props->cbAlign, 128);
	ck_assert_int_eq(ex_props->cbPrefix, 32);
	ck_assert_uint_eq(ex_props->PhysicalRange.MaxFrameSize, 10112);

	/* All five frames, each with its prefix in front, filled to the last byte. */
	for (int i = 0; i < 5; i++) {
		BYTE *p;

		samples[i] = get_buffer(mem);
		p = pointer_of(samples[i]);
		ck_assert_uint_eq((uintptr_t)(p - 32) % 128, 0);
		ck_assert_int_eq(IMediaSample_GetSize(samples[i]), 10080);
		memset(p - 32, 0xee, 10112);
	}
	for (int i = 0; i < 5; i++)
		IMediaSample_Release(samples[i]);
	close_mem(mem, ex);
	stop();
}
END_TEST

START_TEST(test_commit_cannot_reshape_a_config_pool_and_leaves_it_usable)
{
	ALLOCATOR_PROPERTIES req = { .cBuffers = 8, .cbBuffer = 4096, .cbAlign = 64 }, act;
	KSSTREAMALLOCATOR_STATUS st;
	IMediaSample *sample = (IMediaSample *)1;
	IKsAllocatorEx *ex;
	IMemAllocator *mem;

	start();
	mem = open_mem("video", &ex);
	ck_assert_hr_eq(IMemAllocator_Decommit(mem), S_OK);
	ck_assert_hr_eq(IMemAllocator_SetProperties(mem, &req, &act), S_OK);
	ck_assert_hr_eq(IMemAllocator_Commit(mem), VFW_E_WRONG_STATE);
	/* The pool keeps its framing and stays decommitted; the request stays granted. */
	st = status_of(ex);
	ck_assert_uint_eq(st.Framing.Frames, 4);
	ck_assert_uint_eq(st.Framing.FrameSize, 4096);
	ck_assert_hr_eq(IMemAllocator_GetBuffer(mem, &sample, NULL, NULL, 0), VFW_E_NOT_COMMITTED);
	ck_assert_hr_eq(IMemAllocator_Commit(mem), VFW_E_WRONG_STATE);

	/* Properties the pool has make it usable again. */
	req.cBuffers = (LONG)st.Framing.Frames;
	ck_assert_hr_eq(IMemAllocator_SetProperties(mem, &req, &act), S_OK);
	ck_assert_hr_eq(IMemAllocator_Commit(mem), S_OK);
	sample = get_buffer(mem);
	IMediaSample_Release(sample);
	close_mem(mem, ex);
	stop();
}
END_TEST

START_TEST(test_get_properties_passed_back_commits_a_pool_of_unrounded_frame_size)
{
	ALLOCATOR_PROPERTIES props, act;
	IKsAllocatorEx *ex;
	IMemAllocator *mem;
	IMediaSample *sample;

	start();
	/* 1000-byte frames at 64-byte alignment: CMemAllocator rounds a request to 1024. */
	mem = open_mem("odd", &ex);
	ck_assert_hr_eq(IMemAllocator_GetProperties(mem, &props), S_OK);
	ck_assert_int_eq(props.cbBuffer, 1000);
	ck_assert_hr_eq(IMemAllocator_Decommit(mem), S_OK);
	ck_assert_hr_eq(IMemAllocator_SetProperties(mem, &props, &act), S_OK);
	ck_assert_int_eq(act.cbBuffer, 1024);
	/* Each frame owns 1024 bytes of the pool already: no reshape, so a config pool commits. */
	ck_assert_hr_eq(IMemAllocator_Commit(mem), S_OK);
	sample = get_buffer(mem);
	ck_assert_int_eq(IMediaSample_GetSize(sample), 1024);
	memset(pointer_of(sample), 0x11, 1024);
	IMediaSample_Release(sample);
	ck_assert_uint_eq(status_of(ex).Framing.FrameSize, 1000);
	close_mem(mem, ex);
	stop();
}
END_TEST

START_TEST(test_commit_cannot_reshape_a_pool_open_elsewhere_or_beyond_limits)
{
	KSALLOCATOR_FRAMING framing = { .Frames = 2, .FrameSize = 4096, .FileAlignment = 0 };
	ALLOCATOR_PROPERTIES req = { .cBuffers = 3, .cbBuffer = 4096, .cbAlign = 1 }, act;
	IKsAllocatorEx *ex, *ex2;
	IMemAllocator *mem = NULL;

	start();
	ck_assert_hr_eq(KsCreateNamedAllocator("made", &framing, &ex), S_OK);
	ck_assert_hr_eq(KsCreateNamedAllocator("made", &framing, &ex2), S_OK);
	ck_assert_hr_eq(IKsAllocatorEx_QueryInterface(ex, &IID_IMemAllocator, (void **)&mem), S_OK);
	ck_assert_hr_eq(IMemAllocator_Decommit(mem), S_OK);
	ck_assert_hr_eq(IMemAllocator_SetProperties(mem, &req, &act), S_OK);
	/* Another object is another session: the pool is not this one's alone. */
	ck_assert_hr_eq(IMemAllocator_Commit(mem), VFW_E_WRONG_STATE);
	ck_assert_uint_eq(IKsAllocatorEx_Release(ex2), 0);
	wait_for_sessions("made", 1);
	ck_assert_hr_eq(IMemAllocator_Commit(mem), S_OK);
	ck_assert_uint_eq(status_of(ex).Framing.Frames, 3);

	/* The daemon's max_frame_size is 256K. */
	ck_assert_hr_eq(IMemAllocator_Decommit(mem), S_OK);
	req.cbBuffer = 512 * 1024;
	ck_assert_hr_eq(IMemAllocator_SetProperties(mem, &req, &act), S_OK);
	ck_assert_hr_eq(IMemAllocator_Commit(mem), E_INVALIDARG);
	ck_assert_uint_eq(status_of(ex).Framing.FrameSize, 4096);
	close_mem(mem, ex);
	stop();
}
END_TEST

/* ---- samples ----------------------------------------------------------------------------- */

START_TEST(test_sample_times_flags_and_length_behave_like_windows)
{
	REFERENCE_TIME start_time = 100, end_time = 200, t0 = -1, t1 = -1;
	LONGLONG m0 = -1, m1 = -1, ms = 7, me = 9;
	IMediaSample *sample, *same = NULL;
	IKsAllocatorEx *ex;
	IMemAllocator *mem;
	void *other = (void *)1;

	start();
	mem = open_mem("video", &ex);
	sample = get_buffer(mem);

	ck_assert_hr_eq(IMediaSample_QueryInterface(sample, &IID_IMediaSample, (void **)&same),
			S_OK);
	ck_assert_ptr_eq(same, sample);
	ck_assert_uint_eq(IMediaSample_Release(same), 1);
	ck_assert_hr_eq(IMediaSample_QueryInterface(sample, &IID_IUnknown, (void **)&same), S_OK);
	ck_assert_ptr_eq(same, sample);
	ck_assert_uint_eq(IUnknown_Release((IUnknown *)same), 1);
	ck_assert_hr_eq(IMediaSample_QueryInterface(sample, &IID_IMemAllocator, &other),
			E_NOINTERFACE);
	ck_assert_ptr_null(other);
	ck_assert_hr_eq(IMediaSample_GetPointer(sample, NULL), E_POINTER);

	/* Stream times: none, both, start only, none again. */
	ck_assert_hr_eq(IMediaSample_GetTime(sample, &t0, &t1), VFW_E_SAMPLE_TIME_NOT_SET);
	ck_assert_int_eq(t0, -1);
	ck_assert_hr_eq(IMediaSample_SetTime(sample, &start_time, &end_time), S_OK);
	ck_assert_hr_eq(IMediaSample_GetTime(sample, &t0, &t1), S_OK);
	ck_assert_int_eq(t0, 100);
	ck_assert_int_eq(t1, 200);
	ck_assert_hr_eq(IMediaSample_GetTime(sample, &t0, NULL), E_POINTER);
	ck_assert_hr_eq(IMediaSample_SetTime(sample, &start_time, NULL), S_OK);
	ck_assert_hr_eq(IMediaSample_GetTime(sample, &t0, &t1), VFW_S_NO_STOP_TIME);
	ck_assert_int_eq(t0, 100);
	ck_assert_int_eq(t1, 101);
	ck_assert_hr_eq(IMediaSample_SetTime(sample, NULL, NULL), S_OK);
	ck_assert_hr_eq(IMediaSample_GetTime(sample, &t0, &t1), VFW_E_SAMPLE_TIME_NOT_SET);

	/* Media times: none, both, none again. */
	ck_assert_hr_eq(IMediaSample_GetMediaTime(sample, &m0, &m1), VFW_E_MEDIA_TIME_NOT_SET);
	ck_assert_hr_eq(IMediaSample_SetMediaTime(sample, &ms, NULL), E_POINTER);
	ck_assert_hr_eq(IMediaSample_SetMediaTime(sample, &ms, &me), S_OK);
	ck_assert_hr_eq(IMediaSample_GetMediaTime(sample, &m0, &m1), S_OK);
	ck_assert_int_eq(m0, 7);
	ck_assert_int_eq(m1, 9);
	ck_assert_hr_eq(IMediaSample_SetMediaTime(sample, NULL, NULL), S_OK);
	ck_assert_hr_eq(IMediaSample_GetMediaTime(sample, &m0, &m1), VFW_E_MEDIA_TIME_NOT_SET);

	/* Flags start clear and are S_OK / S_FALSE. */
	ck_assert_hr_eq(IMediaSample_IsSyncPoint(sample), S_FALSE);
	ck_assert_hr_eq(IMediaSample_SetSyncPoint(sample, TRUE), S_OK);
	ck_assert_hr_eq(IMediaSample_IsSyncPoint(sample), S_OK);
	ck_assert_hr_eq(IMediaSample_IsPreroll(sample), S_FALSE);
	ck_assert_hr_eq(IMediaSample_SetPreroll(sample, TRUE), S_OK);
	ck_assert_hr_eq(IMediaSample_IsPreroll(sample), S_OK);
	ck_assert_hr_eq(IMediaSample_SetPreroll(sample, FALSE), S_OK);
	ck_assert_hr_eq(IMediaSample_IsPreroll(sample), S_FALSE);
	ck_assert_hr_eq(IMediaSample_IsDiscontinuity(sample), S_FALSE);
	ck_assert_hr_eq(IMediaSample_SetDiscontinuity(sample, TRUE), S_OK);
	ck_assert_hr_eq(IMediaSample_IsDiscontinuity(sample), S_OK);

	/* The actual length: the whole buffer at first, never more. */
	ck_assert_int_eq(IMediaSample_GetActualDataLength(sample), 4096);
	ck_assert_hr_eq(IMediaSample_SetActualDataLength(sample, 10), S_OK);
	ck_assert_int_eq(IMediaSample_GetActualDataLength(sample), 10);
	ck_assert_hr_eq(IMediaSample_SetActualDataLength(sample, 4097), VFW_E_BUFFER_OVERFLOW);
	ck_assert_hr_eq(IMediaSample_SetActualDataLength(sample, -1), VFW_E_BUFFER_OVERFLOW);
	ck_assert_hr_eq(IMediaSample_SetActualDataLength(sample, 0), S_OK);
	ck_assert_int_eq(IMediaSample_GetActualDataLength(sample), 0);
	ck_assert_int_eq(IMediaSample_GetSize(sample), 4096);

	/* A sample from the same frame later is new: nothing carries over. */
	ck_assert_uint_eq(IMediaSample_Release(sample), 0);
	sample = get_buffer(mem);
	ck_assert_hr_eq(IMediaSample_IsSyncPoint(sample), S_FALSE);
	ck_assert_hr_eq(IMediaSample_GetTime(sample, &t0, &t1), VFW_E_SAMPLE_TIME_NOT_SET);
	ck_assert_int_eq(IMediaSample_GetActualDataLength(sample), 4096);
	IMediaSample_Release(sample);
	close_mem(mem, ex);
	stop();
}
END_TEST

/* An IUnknown that only counts, to see the references a media type copy takes and drops. */
struct counted {
	IUnknown iface;
	int refs;
};

static HRESULT STDMETHODCALLTYPE counted_query_interface(IUnknown *This, REFIID riid,
							 void **ppvObject)
{
	*ppvObject = NULL;
	return E_NOINTERFACE;
}

static ULONG STDMETHODCALLTYPE counted_add_ref(IUnknown *This)
{
	return (ULONG)++((struct counted *)This)->refs;
}

static ULONG STDMETHODCALLTYPE counted_release(IUnknown *This)
{
	return (ULONG)--((struct counted *)This)->refs;
}

static const IUnknownVtbl counted_vtbl = {
	.QueryInterface = counted_query_interface,
	.AddRef = counted_add_ref,
	.Release = counted_release,
};

/* What the documentation of IMediaSample_GetMediaType says to do: DeleteMediaType's work. */
static void delete_media_type(AM_MEDIA_TYPE *mt)
{
	if (mt->pUnk)
		IUnknown_Release(mt->pUnk);
	free(mt->pbFormat);
	free(mt);
}

START_TEST(test_sample_media_type_is_copied_in_and_out)
{
	struct counted unk = { .iface.lpVtbl = &counted_vtbl, .refs = 1 };
	BYTE format[12] = "format block";
	AM_MEDIA_TYPE mt = {
		.majortype = STATIC_KSMEMORY_TYPE_SYSTEM, /* any GUIDs will do */
		.subtype = STATIC_KSMEMORY_TYPE_USER,
		.bFixedSizeSamples = TRUE,
		.lSampleSize = 4096,
		.formattype = STATIC_KSNAME_Allocator,
		.pUnk = &unk.iface,
		.cbFormat = sizeof(format),
		.pbFormat = format,
	};
	AM_MEDIA_TYPE *got = (AM_MEDIA_TYPE *)1, *got2 = NULL, bad;
	IMediaSample *sample;
	IKsAllocatorEx *ex;
	IMemAllocator *mem;

	start();
	mem = open_mem("video", &ex);
	sample = get_buffer(mem);
	ck_assert_hr_eq(IMediaSample_GetMediaType(sample, &got), S_FALSE);
	ck_assert_ptr_null(got);
	ck_assert_hr_eq(IMediaSample_GetMediaType(sample, NULL), E_POINTER);

	ck_assert_hr_eq(IMediaSample_SetMediaType(sample, &mt), S_OK);
	ck_assert_int_eq(unk.refs, 2);
	/* The sample has its own copy: changing ours changes nothing there. */
	format[0] = 'X';
	mt.lSampleSize = 1;
	ck_assert_hr_eq(IMediaSample_GetMediaType(sample, &got), S_OK);
	ck_assert_hr_eq(IMediaSample_GetMediaType(sample, &got2), S_OK);
	ck_assert_ptr_ne(got, got2);
	ck_assert_ptr_ne(got->pbFormat, got2->pbFormat);
	ck_assert_ptr_ne(got->pbFormat, format);
	ck_assert_int_eq(unk.refs, 4);
	ck_assert(IsEqualGUID(&got->majortype, &KSMEMORY_TYPE_SYSTEM));
	ck_assert(IsEqualGUID(&got->subtype, &KSMEMORY_TYPE_USER));
	ck_assert(IsEqualGUID(&got->formattype, &KSNAME_Allocator));
	ck_assert_int_eq(got->bFixedSizeSamples, TRUE);
	ck_assert_uint_eq(got->lSampleSize, 4096);
	ck_assert_ptr_eq(got->pUnk, &unk.iface);
	ck_assert_uint_eq(got->cbFormat, sizeof(format));
	ck_assert_mem_eq(got->pbFormat, "format block", sizeof(format));
	delete_media_type(got);
	delete_media_type(got2);
	ck_assert_int_eq(unk.refs, 2);

	/* A format block without its bytes is refused and changes nothing. */
	bad = mt;
	bad.pbFormat = NULL;
	ck_assert_hr_eq(IMediaSample_SetMediaType(sample, &bad), E_POINTER);
	ck_assert_hr_eq(IMediaSample_GetMediaType(sample, &got), S_OK);
	delete_media_type(got);

	/* No format block: pbFormat NULL in the copies, which free() takes. */
	bad.cbFormat = 0;
	bad.pUnk = NULL;
	ck_assert_hr_eq(IMediaSample_SetMediaType(sample, &bad), S_OK);
	ck_assert_int_eq(unk.refs, 1);
	ck_assert_hr_eq(IMediaSample_GetMediaType(sample, &got), S_OK);
	ck_assert_ptr_null(got->pbFormat);
	ck_assert_uint_eq(got->lSampleSize, 1);
	delete_media_type(got);

	ck_assert_hr_eq(IMediaSample_SetMediaType(sample, NULL), S_OK);
	ck_assert_hr_eq(IMediaSample_GetMediaType(sample, &got), S_FALSE);
	ck_assert_ptr_null(got);

	/* A type still set when the sample goes is freed with it, its reference dropped. */
	mt.pbFormat = format;
	ck_assert_hr_eq(IMediaSample_SetMediaType(sample, &mt), S_OK);
	ck_assert_int_eq(unk.refs, 2);
	ck_assert_uint_eq(IMediaSample_Release(sample), 0);
	ck_assert_int_eq(unk.refs, 1);
	close_mem(mem, ex);
	stop();
}
END_TEST

START_TEST(test_sample_properties_come_and_go_at_once_through_imediasample2)
{
	static BYTE format[4] = { 1, 2, 3, 4 };
	AM_MEDIA_TYPE mt = { .cbFormat = sizeof(format), .pbFormat = format };
	AM_SAMPLE2_PROPERTIES p, q;
	IMediaSample2 *s2 = NULL;
	IMediaSample *sample;
	IKsAllocatorEx *ex;
	IMemAllocator *mem;
	AM_MEDIA_TYPE *got = NULL;
	REFERENCE_TIME t0, t1;
	BYTE *ptr;

	start();
	mem = open_mem("video", &ex);
	sample = get_buffer(mem);
	ptr = pointer_of(sample);
	ck_assert_hr_eq(IMediaSample_QueryInterface(sample, &IID_IMediaSample2, (void **)&s2),
			S_OK);
	ck_assert_ptr_eq(s2, sample);

	/* A new sample: no flags, the whole buffer, the sample's pointer and size. */
	memset(&p, 0xa5, sizeof(p));
	ck_assert_hr_eq(IMediaSample2_GetProperties(s2, sizeof(p), (BYTE *)&p), S_OK);
	ck_assert_uint_eq(p.cbData, sizeof(p));
	ck_assert_uint_eq(p.dwSampleFlags, 0);
	ck_assert_uint_eq(p.dwTypeSpecificFlags, 0);
	ck_assert_int_eq(p.lActual, 4096);
	ck_assert_ptr_eq(p.pbBuffer, ptr);
	ck_assert_int_eq(p.cbBuffer, 4096);
	ck_assert_ptr_null(p.pMediaType);

	/* Everything at once; IMediaSample's getters see it. */
	p.dwTypeSpecificFlags = 0x21;
	p.dwSampleFlags = AM_SAMPLE_SPLICEPOINT | AM_SAMPLE_TIMEVALID | AM_SAMPLE_STOPVALID |
			  AM_SAMPLE_TIMEDISCONTINUITY | AM_SAMPLE_TYPECHANGED;
	p.lActual = 100;
	p.tStart = 1000;
	p.tStop = 2000;
	p.pMediaType = &mt;
	ck_assert_hr_eq(IMediaSample2_SetProperties(s2, sizeof(p), (const BYTE *)&p), S_OK);
	ck_assert_hr_eq(IMediaSample_IsSyncPoint(sample), S_OK);
	ck_assert_hr_eq(IMediaSample_IsPreroll(sample), S_FALSE);
	ck_assert_int_eq(IMediaSample_GetActualDataLength(sample), 100);
	ck_assert_hr_eq(IMediaSample_GetTime(sample, &t0, &t1), S_OK);
	ck_assert_int_eq(t0, 1000);
	ck_assert_int_eq(t1, 2000);
	ck_assert_hr_eq(IMediaSample_GetMediaType(sample, &got), S_OK);
	ck_assert_int_eq(memcmp(got->pbFormat, format, sizeof(format)), 0);
	free(got->pbFormat);
	free(got);
	/* ...and GetProperties gives it back, the media type being the sample's own copy. */
	ck_assert_hr_eq(IMediaSample2_GetProperties(s2, sizeof(q), (BYTE *)&q), S_OK);
	ck_assert_uint_eq(q.dwTypeSpecificFlags, 0x21);
	ck_assert_uint_eq(q.dwSampleFlags, p.dwSampleFlags);
	ck_assert_int_eq(q.lActual, 100);
	ck_assert_ptr_nonnull(q.pMediaType);
	ck_assert_ptr_ne(q.pMediaType, &mt);
	ck_assert_uint_eq(q.pMediaType->cbFormat, sizeof(format));

	/* A prefix: only what it holds is copied, or set. */
	memset(&q, 0, sizeof(q));
	ck_assert_hr_eq(IMediaSample2_GetProperties(s2, 12, (BYTE *)&q), S_OK);
	ck_assert_uint_eq(q.cbData, 12);
	ck_assert_uint_eq(q.dwSampleFlags, p.dwSampleFlags);
	ck_assert_int_eq(q.lActual, 0);
	p = (AM_SAMPLE2_PROPERTIES){ .cbData = 12, .dwSampleFlags = AM_SAMPLE_PREROLL };
	ck_assert_hr_eq(IMediaSample2_SetProperties(s2, sizeof(p), (const BYTE *)&p), S_OK);
	ck_assert_hr_eq(IMediaSample_IsPreroll(sample), S_OK);
	ck_assert_hr_eq(IMediaSample_GetTime(sample, &t0, &t1), VFW_E_SAMPLE_TIME_NOT_SET);
	ck_assert_int_eq(IMediaSample_GetActualDataLength(sample), 100);

	/* Refused, and nothing set: another buffer, a length beyond it, an unknown flag. */
	p = (AM_SAMPLE2_PROPERTIES){ .cbData = sizeof(p), .pbBuffer = ptr + 1, .lActual = 5 };
	ck_assert_hr_eq(IMediaSample2_SetProperties(s2, sizeof(p), (const BYTE *)&p), E_INVALIDARG);
	p = (AM_SAMPLE2_PROPERTIES){ .cbData = sizeof(p), .lActual = 4097 };
	ck_assert_hr_eq(IMediaSample2_SetProperties(s2, sizeof(p), (const BYTE *)&p), E_INVALIDARG);
	p = (AM_SAMPLE2_PROPERTIES){ .cbData = sizeof(p), .dwSampleFlags = 0x20, .lActual = 5 };
	ck_assert_hr_eq(IMediaSample2_SetProperties(s2, sizeof(p), (const BYTE *)&p), E_INVALIDARG);
	p = (AM_SAMPLE2_PROPERTIES){ .cbData = sizeof(p) + 1 };
	ck_assert_hr_eq(IMediaSample2_SetProperties(s2, sizeof(p), (const BYTE *)&p), E_INVALIDARG);
	p = (AM_SAMPLE2_PROPERTIES){ .cbData = sizeof(p), .dwSampleFlags = AM_SAMPLE_TYPECHANGED };
	ck_assert_hr_eq(IMediaSample2_SetProperties(s2, sizeof(p), (const BYTE *)&p), E_POINTER);
	ck_assert_int_eq(IMediaSample_GetActualDataLength(sample), 100);
	ck_assert_hr_eq(IMediaSample2_GetProperties(s2, sizeof(p), NULL), E_POINTER);
	ck_assert_hr_eq(IMediaSample2_GetProperties(s2, 0, NULL), S_OK);

	ck_assert_uint_eq(IMediaSample2_Release(s2), 1);
	ck_assert_uint_eq(IMediaSample_Release(sample), 0);
	close_mem(mem, ex);
	stop();
}
END_TEST

START_TEST(test_a_sample_outlives_the_allocator_released_before_it)
{
	struct ksalloc_client *client;
	struct ksalloc_pool_stats stats;
	IMediaSample *sample;
	IKsAllocatorEx *ex;
	IMemAllocator *mem;
	BYTE *p;

	start();
	mem = open_mem("video", &ex);
	sample = get_buffer(mem);
	/* The sample holds the third reference. */
	ck_assert_uint_eq(IMemAllocator_Release(mem), 2);
	ck_assert_uint_eq(IKsAllocatorEx_Release(ex), 1);

	p = pointer_of(sample);
	memset(p, 0x33, 4096);
	ck_assert_int_eq(p[4095], 0x33);
	ck_assert_int_eq(ksalloc_client_open(NULL, &client), 0);
	stats = stats_of(client, "video");
	ck_assert_uint_eq(stats.status.allocated_frames, 1);
	ck_assert_uint_eq(stats.sessions, 1);

	/*
	 * Its release gives the frame back, in shared memory and so at once, and then frees
	 * the allocator, whose session the daemon then sees close.
	 */
	ck_assert_uint_eq(IMediaSample_Release(sample), 0);
	ck_assert_uint_eq(stats_of(client, "video").status.allocated_frames, 0);
	ksalloc_client_close(client);
	wait_for_sessions("video", 0);
	stop();
}
END_TEST

/* A stand-in IMediaSample of some other allocator. */
static const IMediaSampleVtbl foreign_vtbl;

START_TEST(test_release_buffer_takes_only_its_own_released_samples)
{
	IMediaSample foreign = { .lpVtbl = &foreign_vtbl };
	IKsAllocatorEx *ex, *ex2;
	IMemAllocator *mem, *mem2;
	IMediaSample *sample;

	start();
	mem = open_mem("video", &ex);
	mem2 = open_mem("video", &ex2);
	sample = get_buffer(mem);
	ck_assert_hr_eq(IMemAllocator_ReleaseBuffer(mem, NULL), E_POINTER);
	ck_assert_hr_eq(IMemAllocator_ReleaseBuffer(mem2, sample), E_INVALIDARG);
	ck_assert_hr_eq(IMemAllocator_ReleaseBuffer(mem, &foreign), E_INVALIDARG);
	/* Still referenced: handing it back would leave the caller a dangling pointer. */
	ck_assert_hr_eq(IMemAllocator_ReleaseBuffer(mem, sample), E_INVALIDARG);
	ck_assert_uint_eq(status_of(ex).AllocatedFrames, 1);
	ck_assert_uint_eq(IMediaSample_Release(sample), 0);
	ck_assert_uint_eq(status_of(ex).AllocatedFrames, 0);
	close_mem(mem2, ex2);
	close_mem(mem, ex);
	stop();
}
END_TEST

/* ---- callbacks --------------------------------------------------------------------------- */

struct notify {
	IMemAllocatorNotifyCallbackTemp iface;
	atomic_int refs;
	atomic_int releases;
};

static struct notify *notify_from(IMemAllocatorNotifyCallbackTemp *This)
{
	return (struct notify *)This;
}

static HRESULT STDMETHODCALLTYPE notify_query_interface(IMemAllocatorNotifyCallbackTemp *This,
							REFIID riid, void **ppvObject)
{
	*ppvObject = NULL;
	return E_NOINTERFACE;
}

static ULONG STDMETHODCALLTYPE notify_add_ref(IMemAllocatorNotifyCallbackTemp *This)
{
	return (ULONG)atomic_fetch_add(&notify_from(This)->refs, 1) + 1;
}

static ULONG STDMETHODCALLTYPE notify_release(IMemAllocatorNotifyCallbackTemp *This)
{
	return (ULONG)atomic_fetch_sub(&notify_from(This)->refs, 1) - 1;
}

static HRESULT STDMETHODCALLTYPE notify_notify_release(IMemAllocatorNotifyCallbackTemp *This)
{
	atomic_fetch_add(&notify_from(This)->releases, 1);
	return S_OK;
}

static const IMemAllocatorNotifyCallbackTempVtbl notify_vtbl = {
	.QueryInterface = notify_query_interface,
	.AddRef = notify_add_ref,
	.Release = notify_release,
	.NotifyRelease = notify_notify_release,
};

START_TEST(test_notify_release_is_called_as_samples_come_back)
{
	struct notify n = { .iface.lpVtbl = &notify_vtbl, .refs = 1 };
	IMemAllocatorCallbackTemp *cb = NULL;
	IMediaSample *samples[2];
	IKsAllocatorEx *ex;
	LONG free_count = -1;

	start();
	ck_assert_hr_eq(KsOpenAllocator("video", &ex), S_OK);
	ck_assert_hr_eq(IKsAllocatorEx_QueryInterface(ex, &IID_IMemAllocatorCallbackTemp,
						      (void **)&cb),
			S_OK);
	ck_assert_hr_eq(IMemAllocatorCallbackTemp_GetFreeCount(cb, &free_count), S_OK);
	ck_assert_int_eq(free_count, 4);
	ck_assert_hr_eq(IMemAllocatorCallbackTemp_GetFreeCount(cb, NULL), E_POINTER);

	ck_assert_hr_eq(IMemAllocatorCallbackTemp_SetNotify(cb, &n.iface), S_OK);
	ck_assert_int_eq(n.refs, 2);
	for (int i = 0; i < 2; i++)
		ck_assert_hr_eq(IMemAllocatorCallbackTemp_GetBuffer(cb, &samples[i], NULL, NULL, 0),
				S_OK);
	ck_assert_hr_eq(IMemAllocatorCallbackTemp_GetFreeCount(cb, &free_count), S_OK);
	ck_assert_int_eq(free_count, 2);
	ck_assert_int_eq(n.releases, 0);
	IMediaSample_Release(samples[0]);
	ck_assert_int_eq(n.releases, 1);
	ck_assert_hr_eq(IMemAllocatorCallbackTemp_GetFreeCount(cb, &free_count), S_OK);
	ck_assert_int_eq(free_count, 3);

	/* NULL stops the calls and drops the reference. */
	ck_assert_hr_eq(IMemAllocatorCallbackTemp_SetNotify(cb, NULL), S_OK);
	ck_assert_int_eq(n.refs, 1);
	IMediaSample_Release(samples[1]);
	ck_assert_int_eq(n.releases, 1);

	/* A callback still set when the allocator goes is released with it. */
	ck_assert_hr_eq(IMemAllocatorCallbackTemp_SetNotify(cb, &n.iface), S_OK);
	ck_assert_int_eq(n.refs, 2);
	ck_assert_uint_eq(IMemAllocatorCallbackTemp_Release(cb), 1);
	ck_assert_uint_eq(IKsAllocatorEx_Release(ex), 0);
	ck_assert_int_eq(n.refs, 1);
	stop();
}
END_TEST

static Suite *memallocator_suite(void)
{
	Suite *s = suite_create("memallocator");
	TCase *tc;

	tc = tcase_create("interfaces");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_query_interface_goes_both_ways_with_one_identity);
	tcase_add_test(tc, test_both_interfaces_share_one_reference_count);
	suite_add_tcase(s, tc);

	tc = tcase_create("buffers");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_get_buffer_hands_out_frames_of_the_pool_as_samples);
	tcase_add_test(tc, test_data_written_through_a_sample_reaches_another_process);
	tcase_add_test(tc, test_nowait_on_an_exhausted_pool_times_out);
	tcase_add_test(tc, test_samples_from_many_threads_at_once_all_come_back);
	suite_add_tcase(s, tc);

	tc = tcase_create("commit");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_decommit_wakes_a_thread_blocked_in_get_buffer);
	tcase_add_test(tc, test_get_buffer_fails_after_decommit_and_works_after_commit);
	tcase_add_test(tc, test_commit_and_decommit_act_on_the_pool_for_every_process);
	suite_add_tcase(s, tc);

	tc = tcase_create("properties");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_set_properties_is_refused_while_committed);
	tcase_add_test(tc, test_set_properties_is_refused_while_a_frame_is_out);
	tcase_add_test(tc, test_set_properties_checks_its_arguments);
	tcase_add_test(tc, test_set_properties_rounds_like_cmemallocator);
	tcase_add_test(tc, test_commit_refuses_a_zero_size_or_count);
	tcase_add_test(tc, test_commit_reshapes_a_created_pool_to_the_new_properties);
	tcase_add_test(tc, test_commit_cannot_reshape_a_config_pool_and_leaves_it_usable);
	tcase_add_test(tc, test_get_properties_passed_back_commits_a_pool_of_unrounded_frame_size);
	tcase_add_test(tc, test_commit_cannot_reshape_a_pool_open_elsewhere_or_beyond_limits);
	suite_add_tcase(s, tc);

	tc = tcase_create("samples");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_sample_times_flags_and_length_behave_like_windows);
	tcase_add_test(tc, test_sample_media_type_is_copied_in_and_out);
	tcase_add_test(tc, test_sample_properties_come_and_go_at_once_through_imediasample2);
	tcase_add_test(tc, test_a_sample_outlives_the_allocator_released_before_it);
	tcase_add_test(tc, test_release_buffer_takes_only_its_own_released_samples);
	suite_add_tcase(s, tc);

	tc = tcase_create("callbacks");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_notify_release_is_called_as_samples_come_back);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return ksalloc_check_run(memallocator_suite());
}

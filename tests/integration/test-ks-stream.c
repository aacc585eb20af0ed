/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Streams the KS way over the real ksallocd: KsCreateStream() / KsStreamDeliver() in a producer,
 * KsOpenStream() / KsStreamReceive() / KsStreamReceiveSample() / KsFreeFrame() in consumers (in
 * another process, and beside the producer), KSSTREAM_HEADER field by field, the IMediaSample
 * view of a received frame, drops, the end of the stream, and frames going back to the pool.
 */
#include <check.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <ksalloc/ksproxy.h>

#include "tests/lib/harness.h"
#include "tests/lib/ksalloc-check.h"

/* HRESULTs are signed: compare bit patterns, so failures print as the hex Windows documents. */
#define ck_assert_hr_eq(hr, expected) ck_assert_uint_eq((uint32_t)(hr), (uint32_t)(expected))

/* "video": 4 frames, the streams' pool; "single": one frame, to see it come back. */
static const char pools[] = "[daemon]\n"
			    "log_level = debug\n"
			    "\n"
			    "[pool video]\n"
			    "frames = 4\n"
			    "frame_size = 4096\n"
			    "alignment = 64\n"
			    "\n"
			    "[pool single]\n"
			    "frames = 1\n"
			    "frame_size = 4096\n"
			    "alignment = 64\n";

#define FRAME_SIZE 4096

static struct test_daemon daemon_;

static void start(void)
{
	test_daemon_up(&daemon_, pools);
}

static void stop(void)
{
	test_daemon_down(&daemon_);
}

/* A producer of stream @stream on pool @pool. */
static IKsAllocatorEx *producer(const char *pool, const char *stream)
{
	IKsAllocatorEx *p = NULL;

	ck_assert_hr_eq(KsOpenAllocator(pool, &p), S_OK);
	ck_assert_hr_eq(KsCreateStream(p, stream), S_OK);
	return p;
}

/* A consumer of @stream, served as @policy says with a queue of @depth. */
static IKsAllocatorEx *consumer(const char *stream, KSALLOC_STREAM_POLICY policy, ULONG depth)
{
	KSALLOC_STREAM_OPTIONS opts = { .Policy = policy, .Depth = depth };
	IKsAllocatorEx *c = NULL;

	ck_assert_hr_eq(KsOpenStream(stream, &opts, &c), S_OK);
	ck_assert_ptr_nonnull(c);
	return c;
}

static ULONG allocated_frames(IKsAllocatorEx *a)
{
	KSSTREAMALLOCATOR_STATUS st;

	ck_assert_hr_eq(IKsAllocatorEx_KsGetAllocatorStatus(a, &st), S_OK);
	return st.AllocatedFrames;
}

/* ---- what frame @i of a stream carries ----------------------------------------------------- */

static BYTE pattern(unsigned int i, size_t at)
{
	return (BYTE)(i * 31 + at * 7 + 1);
}

static ULONG data_used(unsigned int i)
{
	return 100 + i;
}

/*
 * Frame @i's header as the producer writes it: times in 100 ns (1/1), but frame 5 in a scale
 * of 10/3, a key frame at 0, preroll at 3, type-specific flags of its own each.
 */
static KSSTREAM_HEADER header_of(unsigned int i, const KSALLOC_FRAME *f)
{
	KSSTREAM_HEADER h;

	memset(&h, 0, sizeof(h));
	h.Size = sizeof(KSSTREAM_HEADER);
	h.TypeSpecificFlags = 0x10 + i;
	h.PresentationTime.Time = 1000 * (LONGLONG)i;
	h.PresentationTime.Numerator = 1;
	h.PresentationTime.Denominator = 1;
	h.Duration = 333;
	if (i == 5) {
		h.PresentationTime.Time = 3000;
		h.PresentationTime.Numerator = 10;
		h.PresentationTime.Denominator = 3;
		h.Duration = 30;
	}
	h.FrameExtent = f ? f->Size : 0;
	h.DataUsed = data_used(i);
	h.Data = f ? f->Data : NULL;
	h.OptionsFlags = KSSTREAM_HEADER_OPTIONSF_TIMEVALID |
			 KSSTREAM_HEADER_OPTIONSF_DURATIONVALID;
	if (i == 0)
		h.OptionsFlags |= KSSTREAM_HEADER_OPTIONSF_SPLICEPOINT;
	if (i == 3)
		h.OptionsFlags |= KSSTREAM_HEADER_OPTIONSF_PREROLL;
	return h;
}

/* Takes a frame of @p, fills it as frame @i, delivers it; returns KsStreamDeliver's result. */
static HRESULT deliver(IKsAllocatorEx *p, unsigned int i, ULONG timeout_ms, KSALLOC_FRAME *ret)
{
	KSSTREAM_HEADER h;
	KSALLOC_FRAME f;

	ck_assert_hr_eq(KsAllocateFrame(p, 1000, &f), S_OK);
	ck_assert_uint_eq(f.Size, FRAME_SIZE);
	for (size_t at = 0; at < data_used(i); at++)
		((BYTE *)f.Data)[at] = pattern(i, at);
	h = header_of(i, &f);
	if (ret)
		*ret = f;
	return KsStreamDeliver(p, &f, &h, timeout_ms);
}

static HRESULT deliver_end(IKsAllocatorEx *p)
{
	KSSTREAM_HEADER h;

	memset(&h, 0, sizeof(h));
	h.Size = sizeof(h);
	h.OptionsFlags = KSSTREAM_HEADER_OPTIONSF_ENDOFSTREAM;
	return KsStreamDeliver(p, NULL, &h, INFINITE);
}

/*
 * Checks, without Check (it runs in a forked child too), a received frame and header against
 * frame @i as delivered, plus @extra_flags (a discontinuity). Prints what differs; returns
 * whether all agreed.
 */
#define expect(cond)                                                                            \
	do {                                                                                    \
		if (!(cond)) {                                                                  \
			fprintf(stderr, "%s:%d: frame %u: %s\n", __FILE__, __LINE__, i, #cond); \
			ok = false;                                                             \
		}                                                                               \
	} while (0)

static bool header_is(unsigned int i, const KSALLOC_FRAME *f, const KSSTREAM_HEADER *h,
		      ULONG extra_flags)
{
	KSSTREAM_HEADER want = header_of(i, NULL);
	bool ok = true;

	expect(f->Data != NULL);
	expect(f->Size == FRAME_SIZE);
	expect(f->DmaBufFd == -1);
	expect(h->Size == sizeof(KSSTREAM_HEADER));
	expect(h->TypeSpecificFlags == want.TypeSpecificFlags);
	expect(h->PresentationTime.Time == want.PresentationTime.Time);
	expect(h->PresentationTime.Numerator == want.PresentationTime.Numerator);
	expect(h->PresentationTime.Denominator == want.PresentationTime.Denominator);
	expect(h->Duration == want.Duration);
	expect(h->FrameExtent == FRAME_SIZE);
	expect(h->DataUsed == data_used(i));
	/* The receiver's own mapping of the frame. */
	expect(h->Data == f->Data);
	expect(h->OptionsFlags == (want.OptionsFlags | extra_flags));
	expect(h->Reserved == 0);
	for (size_t at = 0; ok && f->Data && at < data_used(i); at++)
		expect(((const BYTE *)f->Data)[at] == pattern(i, at));
	return ok;
}

/* The same for a received sample: ksproxy's mapping of the header. */
static bool sample_is(unsigned int i, IMediaSample *s, bool discontinuity)
{
	KSSTREAM_HEADER want = header_of(i, NULL);
	REFERENCE_TIME start = -1, stop = -1;
	BYTE *p = NULL;
	bool ok = true;

	expect(IMediaSample_GetPointer(s, &p) == S_OK);
	expect(p != NULL);
	expect(IMediaSample_GetSize(s) == FRAME_SIZE);
	expect(IMediaSample_GetActualDataLength(s) == (LONG)data_used(i));
	expect(IMediaSample_GetTime(s, &start, &stop) == S_OK);
	if (i == 5) {
		/* 3000 * 10 / 3 and 30 * 10 / 3, in 100 ns. */
		expect(start == 10000);
		expect(stop == 10100);
	} else {
		expect(start == want.PresentationTime.Time);
		expect(stop == want.PresentationTime.Time + want.Duration);
	}
	expect(IMediaSample_IsSyncPoint(s) == (i == 0 ? S_OK : S_FALSE));
	expect(IMediaSample_IsPreroll(s) == (i == 3 ? S_OK : S_FALSE));
	expect(IMediaSample_IsDiscontinuity(s) == (discontinuity ? S_OK : S_FALSE));
	for (size_t at = 0; ok && p && at < data_used(i); at++)
		expect(p[at] == pattern(i, at));

	/* IMediaSample2 adds what IMediaSample has no getter for: the type-specific flags. */
	{
		ULONG flags = AM_SAMPLE_TIMEVALID | AM_SAMPLE_STOPVALID |
			      (i == 0 ? AM_SAMPLE_SPLICEPOINT : 0) |
			      (i == 3 ? AM_SAMPLE_PREROLL : 0) |
			      (discontinuity ? AM_SAMPLE_DATADISCONTINUITY : 0);
		AM_SAMPLE2_PROPERTIES props;
		IMediaSample2 *s2 = NULL;

		expect(IMediaSample_QueryInterface(s, &IID_IMediaSample2, (void **)&s2) == S_OK);
		expect(s2 != NULL);
		if (s2) {
			memset(&props, 0xa5, sizeof(props));
			expect(IMediaSample2_GetProperties(s2, sizeof(props), (BYTE *)&props) ==
			       S_OK);
			expect(props.cbData == sizeof(props));
			expect(props.dwTypeSpecificFlags == want.TypeSpecificFlags);
			expect(props.dwSampleFlags == flags);
			expect(props.lActual == (LONG)data_used(i));
			expect(props.tStart == start);
			expect(props.tStop == stop);
			expect(props.pMediaType == NULL);
			expect(props.pbBuffer == p);
			expect(props.cbBuffer == FRAME_SIZE);
			IMediaSample2_Release(s2);
		}
	}
	return ok;
}

#undef expect

/* ---- one producer, a consumer in another process ------------------------------------------ */

enum { N_FRAMES = 6 };

/*
 * The consumer process: attaches, says so on @ready, then takes the frames, the even ones
 * with KsStreamReceive and the odd ones as samples, and then the end. Returns its exit status.
 */
static int consumer_process(int ready)
{
	KSSTREAM_HEADER h;
	IKsAllocatorEx *c = NULL;
	KSALLOC_FRAME f;
	HRESULT hr;
	int failures = 0;

	hr = KsOpenStream("camera", NULL, &c);
	if (FAILED(hr)) {
		fprintf(stderr, "KsOpenStream: 0x%08x\n", (unsigned int)hr);
		return 2;
	}
	if (write(ready, "R", 1) != 1)
		return 3;
	for (unsigned int i = 0; i < N_FRAMES; i++) {
		if (i % 2 == 0) {
			hr = KsStreamReceive(c, 10000, &f, &h);
			if (hr != S_OK) {
				fprintf(stderr, "KsStreamReceive %u: 0x%08x\n", i,
					(unsigned int)hr);
				return 4;
			}
			failures += !header_is(i, &f, &h, 0);
			hr = KsFreeFrame(c, &f);
			if (hr != S_OK) {
				fprintf(stderr, "KsFreeFrame %u: 0x%08x\n", i, (unsigned int)hr);
				failures++;
			}
		} else {
			IMediaSample *s = NULL;

			hr = KsStreamReceiveSample(c, 10000, &s);
			if (hr != S_OK || !s) {
				fprintf(stderr, "KsStreamReceiveSample %u: 0x%08x\n", i,
					(unsigned int)hr);
				return 5;
			}
			failures += !sample_is(i, s, false);
			if (IMediaSample_Release(s) != 0) {
				fprintf(stderr, "sample %u still referenced\n", i);
				failures++;
			}
		}
	}
	/* The end: a data-less ENDOFSTREAM packet and no frame. */
	memset(&h, 0xa5, sizeof(h));
	memset(&f, 0xa5, sizeof(f));
	hr = KsStreamReceive(c, 10000, &f, &h);
	if (hr != S_FALSE || h.Size != sizeof(h) ||
	    h.OptionsFlags != KSSTREAM_HEADER_OPTIONSF_ENDOFSTREAM || h.DataUsed != 0 ||
	    h.Data != NULL || f.Data != NULL || f.DmaBufFd != -1) {
		fprintf(stderr, "end of stream: 0x%08x, flags 0x%x, data %p\n", (unsigned int)hr,
			h.OptionsFlags, h.Data);
		failures++;
	}
	if (IKsAllocatorEx_Release(c) != 0)
		failures++;
	return failures ? 1 : 0;
}

START_TEST(test_frames_and_headers_reach_a_consumer_in_another_process)
{
	IKsAllocatorEx *p;
	int fds[2], status;
	char c;
	pid_t pid;

	start();
	p = producer("video", "camera");
	ck_assert_int_eq(pipe(fds), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		close(fds[0]);
		_exit(consumer_process(fds[1]));
	}
	close(fds[1]);
	/* Frames delivered before the consumer attached would not be its. */
	ck_assert_int_eq(read(fds[0], &c, 1), 1);
	close(fds[0]);

	/* A Block consumer: each frame reaches it, waiting for room when its queue is full. */
	for (unsigned int i = 0; i < N_FRAMES; i++)
		ck_assert_hr_eq(deliver(p, i, 10000, NULL), S_OK);
	ck_assert_hr_eq(deliver_end(p), S_OK);

	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "consumer failed: %d", status);
	/* Every frame came back to the pool as the consumer freed it. */
	ck_assert_uint_eq(allocated_frames(p), 0);
	ck_assert_uint_eq(IKsAllocatorEx_Release(p), 0);
	stop();
}
END_TEST

/* ---- consumers beside the producer --------------------------------------------------------- */

START_TEST(test_the_first_frame_after_drops_carries_a_discontinuity)
{
	IKsAllocatorEx *p, *c;
	KSSTREAM_HEADER h;
	KSALLOC_FRAME f;
	IMediaSample *s = NULL;

	start();
	p = producer("video", "camera");
	c = consumer("camera", KsStreamPolicy_DropNewest, 2);

	/* A queue of 2: frames 0 and 1 reach it, 2 and 3 skip it (and go back to the pool). */
	ck_assert_hr_eq(deliver(p, 0, 0, NULL), S_OK);
	ck_assert_hr_eq(deliver(p, 1, 0, NULL), S_OK);
	ck_assert_hr_eq(deliver(p, 2, 0, NULL), S_FALSE);
	ck_assert_hr_eq(deliver(p, 3, 0, NULL), S_FALSE);

	for (unsigned int i = 0; i < 2; i++) {
		ck_assert_hr_eq(KsStreamReceive(c, 1000, &f, &h), S_OK);
		ck_assert(header_is(i, &f, &h, 0));
		ck_assert_hr_eq(KsFreeFrame(c, &f), S_OK);
	}
	/* Frame 4 is the first after the loss: DATADISCONTINUITY, in the header... */
	ck_assert_hr_eq(deliver(p, 4, 0, NULL), S_OK);
	ck_assert_hr_eq(KsStreamReceive(c, 1000, &f, &h), S_OK);
	ck_assert(header_is(4, &f, &h, KSSTREAM_HEADER_OPTIONSF_DATADISCONTINUITY));
	ck_assert_hr_eq(KsFreeFrame(c, &f), S_OK);
	/* ...and only there. */
	ck_assert_hr_eq(deliver(p, 5, 0, NULL), S_OK);
	ck_assert_hr_eq(KsStreamReceiveSample(c, 1000, &s), S_OK);
	ck_assert(sample_is(5, s, false));
	ck_assert_uint_eq(IMediaSample_Release(s), 0);

	/* Lose two more: the sample view says so too. */
	for (unsigned int i = 0; i < 4; i++)
		deliver(p, i, 0, NULL);
	for (unsigned int i = 0; i < 2; i++) {
		ck_assert_hr_eq(KsStreamReceive(c, 1000, &f, &h), S_OK);
		ck_assert_hr_eq(KsFreeFrame(c, &f), S_OK);
	}
	ck_assert_hr_eq(deliver(p, 1, 0, NULL), S_OK);
	ck_assert_hr_eq(KsStreamReceiveSample(c, 1000, &s), S_OK);
	ck_assert(sample_is(1, s, true));
	ck_assert_uint_eq(IMediaSample_Release(s), 0);

	ck_assert_uint_eq(allocated_frames(p), 0);
	ck_assert_uint_eq(IKsAllocatorEx_Release(c), 0);
	ck_assert_uint_eq(IKsAllocatorEx_Release(p), 0);
	stop();
}
END_TEST

START_TEST(test_the_last_release_of_a_sample_returns_the_frame)
{
	IKsAllocatorEx *p, *c1, *c2;
	IMediaSample *s1 = NULL, *s2 = NULL;
	KSALLOC_FRAME f;

	start();
	/* One frame in the pool: a free frame is one that came back. */
	p = producer("single", "preview");
	c1 = consumer("preview", KsStreamPolicy_Block, 0);
	c2 = consumer("preview", KsStreamPolicy_Block, 0);

	ck_assert_hr_eq(deliver(p, 0, 0, NULL), S_OK);
	ck_assert_hr_eq(KsAllocateFrame(p, 0, &f), VFW_E_TIMEOUT);

	ck_assert_hr_eq(KsStreamReceiveSample(c1, 1000, &s1), S_OK);
	ck_assert_hr_eq(KsStreamReceiveSample(c2, 1000, &s2), S_OK);
	ck_assert(sample_is(0, s1, false));
	ck_assert(sample_is(0, s2, false));
	/* The same memory, mapped by each consumer's own session (here one process). */
	ck_assert_uint_eq(allocated_frames(p), 1);

	/* A sample holds its allocator: c1's count is its own pointer and the sample's. */
	ck_assert_uint_eq(IKsAllocatorEx_AddRef(c1), 3);
	ck_assert_uint_eq(IKsAllocatorEx_Release(c1), 2);

	/* Not the last Release: the frame stays out. */
	ck_assert_uint_eq(IMediaSample_AddRef(s1), 2);
	ck_assert_uint_eq(IMediaSample_Release(s1), 1);
	ck_assert_hr_eq(KsAllocateFrame(p, 0, &f), VFW_E_TIMEOUT);
	/* c1's last Release: c2 still holds it. */
	ck_assert_uint_eq(IMediaSample_Release(s1), 0);
	ck_assert_uint_eq(IKsAllocatorEx_AddRef(c1), 2);
	ck_assert_uint_eq(IKsAllocatorEx_Release(c1), 1);
	ck_assert_hr_eq(KsAllocateFrame(p, 0, &f), VFW_E_TIMEOUT);
	ck_assert_uint_eq(allocated_frames(p), 1);
	/* The last holder's last Release: back in the pool. */
	ck_assert_uint_eq(IMediaSample_Release(s2), 0);
	ck_assert_uint_eq(allocated_frames(p), 0);
	ck_assert_hr_eq(KsAllocateFrame(p, 0, &f), S_OK);
	ck_assert_hr_eq(KsFreeFrame(p, &f), S_OK);

	ck_assert_uint_eq(IKsAllocatorEx_Release(c2), 0);
	ck_assert_uint_eq(IKsAllocatorEx_Release(c1), 0);
	ck_assert_uint_eq(IKsAllocatorEx_Release(p), 0);
	stop();
}
END_TEST

START_TEST(test_ksfreeframe_gives_a_received_frame_back_once)
{
	IKsAllocatorEx *p, *c;
	KSSTREAM_HEADER h;
	KSALLOC_FRAME f, again;
	HRESULT hr;

	start();
	p = producer("single", "preview");
	c = consumer("preview", KsStreamPolicy_Block, 1);
	ck_assert_hr_eq(deliver(p, 2, 0, NULL), S_OK);
	ck_assert_hr_eq(KsStreamReceive(c, 1000, &f, &h), S_OK);
	ck_assert(header_is(2, &f, &h, 0));
	ck_assert_hr_eq(KsAllocateFrame(p, 0, &again), VFW_E_TIMEOUT);
	ck_assert_hr_eq(KsFreeFrame(c, &f), S_OK);
	ck_assert_uint_eq(allocated_frames(p), 0);
	/* Freed twice: refused, and the frame is not freed a second time. */
	hr = KsFreeFrame(c, &f);
	ck_assert_msg(hr == HRESULT_FROM_WIN32(ERROR_NOT_OWNER) || hr == E_HANDLE,
		      "second KsFreeFrame: 0x%08x", (unsigned int)hr);
	ck_assert_hr_eq(KsAllocateFrame(p, 0, &again), S_OK);
	ck_assert_hr_eq(KsFreeFrame(p, &again), S_OK);
	ck_assert_hr_eq(KsFreeFrame(c, NULL), E_POINTER);

	ck_assert_uint_eq(IKsAllocatorEx_Release(c), 0);
	ck_assert_uint_eq(IKsAllocatorEx_Release(p), 0);
	stop();
}
END_TEST

START_TEST(test_receive_times_out_as_ksallocateframe_does)
{
	IKsAllocatorEx *p, *c;
	KSSTREAM_HEADER h, untouched;
	KSALLOC_FRAME f;
	IMediaSample *s = (IMediaSample *)1;

	start();
	p = producer("video", "camera");
	c = consumer("camera", KsStreamPolicy_Block, 0);
	memset(&h, 0x5a, sizeof(h));
	untouched = h;
	ck_assert_hr_eq(KsStreamReceive(c, 0, &f, &h), VFW_E_TIMEOUT);
	ck_assert_hr_eq(KsStreamReceive(c, 50, &f, &h), VFW_E_TIMEOUT);
	ck_assert_int_eq(memcmp(&h, &untouched, sizeof(h)), 0);
	ck_assert_hr_eq(KsStreamReceiveSample(c, 50, &s), VFW_E_TIMEOUT);
	ck_assert_ptr_null(s);
	ck_assert_uint_eq(IKsAllocatorEx_Release(c), 0);
	ck_assert_uint_eq(IKsAllocatorEx_Release(p), 0);
	stop();
}
END_TEST

START_TEST(test_a_full_block_consumer_times_the_producer_out)
{
	IKsAllocatorEx *p, *c;
	KSSTREAM_HEADER h;
	KSALLOC_FRAME f, kept;

	start();
	p = producer("video", "camera");
	c = consumer("camera", KsStreamPolicy_Block, 1);
	ck_assert_hr_eq(deliver(p, 0, 0, NULL), S_OK);
	/* No room: nobody got frame 1, which is still the producer's to free. */
	ck_assert_hr_eq(deliver(p, 1, 50, &kept), VFW_E_TIMEOUT);
	ck_assert_uint_eq(allocated_frames(p), 2);
	ck_assert_hr_eq(KsFreeFrame(p, &kept), S_OK);
	ck_assert_hr_eq(KsStreamReceive(c, 1000, &f, &h), S_OK);
	ck_assert(header_is(0, &f, &h, 0));
	ck_assert_hr_eq(KsFreeFrame(c, &f), S_OK);
	ck_assert_uint_eq(allocated_frames(p), 0);
	ck_assert_uint_eq(IKsAllocatorEx_Release(c), 0);
	ck_assert_uint_eq(IKsAllocatorEx_Release(p), 0);
	stop();
}
END_TEST

START_TEST(test_a_consumer_holds_no_more_than_maxheld_frames)
{
	KSALLOC_STREAM_OPTIONS opts = { .Policy = KsStreamPolicy_Block, .MaxHeld = 1 };
	IKsAllocatorEx *p, *c;
	KSSTREAM_HEADER h;
	KSALLOC_FRAME f, g;

	start();
	p = producer("video", "camera");
	ck_assert_hr_eq(KsOpenStream("camera", &opts, &c), S_OK);
	ck_assert_hr_eq(deliver(p, 0, 0, NULL), S_OK);
	ck_assert_hr_eq(deliver(p, 1, 0, NULL), S_OK);
	ck_assert_hr_eq(KsStreamReceive(c, 1000, &f, &h), S_OK);
	ck_assert_hr_eq(KsStreamReceive(c, 1000, &g, &h),
			HRESULT_FROM_WIN32(ERROR_NOT_ENOUGH_QUOTA));
	ck_assert_hr_eq(KsFreeFrame(c, &f), S_OK);
	ck_assert_hr_eq(KsStreamReceive(c, 1000, &g, &h), S_OK);
	ck_assert(header_is(1, &g, &h, 0));
	ck_assert_hr_eq(KsFreeFrame(c, &g), S_OK);
	ck_assert_uint_eq(IKsAllocatorEx_Release(c), 0);
	ck_assert_uint_eq(IKsAllocatorEx_Release(p), 0);
	stop();
}
END_TEST

START_TEST(test_a_stream_takes_32_consumers_and_refuses_the_33rd)
{
	IKsAllocatorEx *p, *c[32], *more = (IKsAllocatorEx *)1;

	start();
	p = producer("video", "camera");
	for (int i = 0; i < 32; i++)
		c[i] = consumer("camera", KsStreamPolicy_DropNewest, 1);
	ck_assert_hr_eq(KsOpenStream("camera", NULL, &more),
			HRESULT_FROM_WIN32(ERROR_REQ_NOT_ACCEP));
	ck_assert_ptr_null(more);
	/* One frame, 32 references: back in the pool after the last of them. */
	ck_assert_hr_eq(deliver(p, 0, 0, NULL), S_OK);
	for (int i = 0; i < 32; i++) {
		IMediaSample *s = NULL;

		ck_assert_uint_eq(allocated_frames(p), 1);
		ck_assert_hr_eq(KsStreamReceiveSample(c[i], 1000, &s), S_OK);
		ck_assert(sample_is(0, s, false));
		ck_assert_uint_eq(IMediaSample_Release(s), 0);
	}
	ck_assert_uint_eq(allocated_frames(p), 0);
	/* A place freed is a place taken. */
	ck_assert_uint_eq(IKsAllocatorEx_Release(c[31]), 0);
	c[31] = consumer("camera", KsStreamPolicy_Block, 0);
	for (int i = 0; i < 32; i++)
		ck_assert_uint_eq(IKsAllocatorEx_Release(c[i]), 0);
	ck_assert_uint_eq(IKsAllocatorEx_Release(p), 0);
	stop();
}
END_TEST

/* ---- the end ------------------------------------------------------------------------------- */

START_TEST(test_a_frame_with_endofstream_is_the_last_one)
{
	IKsAllocatorEx *p, *c;
	KSSTREAM_HEADER h;
	KSALLOC_FRAME f;
	IMediaSample *s = (IMediaSample *)1;

	start();
	p = producer("video", "camera");
	c = consumer("camera", KsStreamPolicy_Block, 0);
	ck_assert_hr_eq(KsAllocateFrame(p, 0, &f), S_OK);
	h = header_of(0, &f);
	h.OptionsFlags |= KSSTREAM_HEADER_OPTIONSF_ENDOFSTREAM;
	memset(f.Data, 0, FRAME_SIZE);
	ck_assert_hr_eq(KsStreamDeliver(p, &f, &h, 1000), S_OK);
	/* Ended: another end is no error, another frame is refused and stays the producer's. */
	ck_assert_hr_eq(deliver_end(p), S_OK);
	ck_assert_hr_eq(deliver(p, 1, 0, &f), HRESULT_FROM_WIN32(ERROR_BROKEN_PIPE));
	ck_assert_hr_eq(KsFreeFrame(p, &f), S_OK);

	/* The frame, with its flag, then the end; as a sample view: no sample. */
	ck_assert_hr_eq(KsStreamReceive(c, 1000, &f, &h), S_OK);
	ck_assert_uint_eq(h.OptionsFlags & KSSTREAM_HEADER_OPTIONSF_ENDOFSTREAM,
			  KSSTREAM_HEADER_OPTIONSF_ENDOFSTREAM);
	ck_assert_uint_eq(h.DataUsed, data_used(0));
	ck_assert_hr_eq(KsFreeFrame(c, &f), S_OK);
	ck_assert_hr_eq(KsStreamReceiveSample(c, 1000, &s), S_FALSE);
	ck_assert_ptr_null(s);
	/* Reported once: then it waits for a new producer's frames. */
	ck_assert_hr_eq(KsStreamReceive(c, 0, &f, &h), VFW_E_TIMEOUT);
	ck_assert_uint_eq(IKsAllocatorEx_Release(c), 0);
	ck_assert_uint_eq(IKsAllocatorEx_Release(p), 0);
	stop();
}
END_TEST

START_TEST(test_a_producer_that_goes_without_ending_breaks_the_pipe)
{
	IKsAllocatorEx *p, *c;
	KSSTREAM_HEADER h;
	KSALLOC_FRAME f;

	start();
	p = producer("video", "camera");
	c = consumer("camera", KsStreamPolicy_Block, 0);
	ck_assert_hr_eq(deliver(p, 0, 0, NULL), S_OK);
	ck_assert_uint_eq(IKsAllocatorEx_Release(p), 0);
	/* What it delivered first, then the break, once. */
	ck_assert_hr_eq(KsStreamReceive(c, 1000, &f, &h), S_OK);
	ck_assert(header_is(0, &f, &h, 0));
	ck_assert_hr_eq(KsFreeFrame(c, &f), S_OK);
	ck_assert_hr_eq(KsStreamReceive(c, 1000, &f, &h), HRESULT_FROM_WIN32(ERROR_BROKEN_PIPE));
	ck_assert_hr_eq(KsStreamReceive(c, 0, &f, &h), VFW_E_TIMEOUT);

	/* A new producer may take the stream over, and its frames reach the consumer. */
	p = producer("video", "camera");
	ck_assert_hr_eq(deliver(p, 1, 0, NULL), S_OK);
	ck_assert_hr_eq(KsStreamReceive(c, 1000, &f, &h), S_OK);
	/* (Whether a new producer's first frame is a discontinuity is the library's to say.) */
	ck_assert(
		header_is(1, &f, &h, h.OptionsFlags & KSSTREAM_HEADER_OPTIONSF_DATADISCONTINUITY));
	ck_assert_hr_eq(KsFreeFrame(c, &f), S_OK);
	ck_assert_uint_eq(IKsAllocatorEx_Release(c), 0);
	ck_assert_uint_eq(IKsAllocatorEx_Release(p), 0);
	stop();
}
END_TEST

/* ---- arguments and roles ------------------------------------------------------------------- */

START_TEST(test_headers_that_do_not_describe_the_frame_are_refused)
{
	IKsAllocatorEx *p, *c;
	KSSTREAM_HEADER h;
	KSALLOC_FRAME f;

	start();
	p = producer("video", "camera");
	c = consumer("camera", KsStreamPolicy_Block, 0);
	ck_assert_hr_eq(KsAllocateFrame(p, 0, &f), S_OK);

	h = header_of(0, &f);
	h.Size = sizeof(h) + 72; /* an extension (KS_FRAME_INFO): not carried */
	ck_assert_hr_eq(KsStreamDeliver(p, &f, &h, 0), E_INVALIDARG);
	h = header_of(0, &f);
	h.Size = 48; /* a 32-bit Windows header */
	ck_assert_hr_eq(KsStreamDeliver(p, &f, &h, 0), E_INVALIDARG);
	h = header_of(0, &f);
	h.Data = (BYTE *)f.Data + 64;
	ck_assert_hr_eq(KsStreamDeliver(p, &f, &h, 0), E_INVALIDARG);
	h = header_of(0, &f);
	h.FrameExtent = f.Size + 1;
	ck_assert_hr_eq(KsStreamDeliver(p, &f, &h, 0), E_INVALIDARG);
	h = header_of(0, &f);
	h.FrameExtent = 64;
	h.DataUsed = 65;
	ck_assert_hr_eq(KsStreamDeliver(p, &f, &h, 0), E_INVALIDARG);
	h = header_of(0, &f);
	ck_assert_hr_eq(KsStreamDeliver(p, NULL, &h, 0), E_POINTER);
	h.OptionsFlags = KSSTREAM_HEADER_OPTIONSF_ENDOFSTREAM; /* DataUsed is not 0 */
	ck_assert_hr_eq(KsStreamDeliver(p, NULL, &h, 0), E_INVALIDARG);
	ck_assert_hr_eq(KsStreamDeliver(p, &f, NULL, 0), E_POINTER);
	ck_assert_hr_eq(KsStreamDeliver(NULL, &f, &h, 0), E_POINTER);

	/* Nothing went: the consumer has nothing, the frame is still the producer's. */
	ck_assert_hr_eq(KsStreamReceive(c, 0, &f, &h), VFW_E_TIMEOUT);
	ck_assert_uint_eq(allocated_frames(p), 1);
	ck_assert_hr_eq(KsFreeFrame(p, &f), S_OK);

	ck_assert_uint_eq(IKsAllocatorEx_Release(c), 0);
	ck_assert_uint_eq(IKsAllocatorEx_Release(p), 0);
	stop();
}
END_TEST

START_TEST(test_each_allocator_plays_its_own_part)
{
	IKsAllocatorEx *p, *c, *plain;
	IMemAllocator *mem = NULL;
	IMediaSample *s = (IMediaSample *)1;
	KSSTREAM_HEADER h;
	KSALLOC_FRAME f;

	start();
	p = producer("video", "camera");
	c = consumer("camera", KsStreamPolicy_Block, 0);
	ck_assert_hr_eq(KsOpenAllocator("video", &plain), S_OK);

	/* One stream per allocator; a consumer produces nothing. */
	ck_assert_hr_eq(KsCreateStream(p, "camera2"), VFW_E_WRONG_STATE);
	ck_assert_hr_eq(KsCreateStream(c, "camera2"), VFW_E_WRONG_STATE);
	/* One producer per stream. */
	ck_assert_hr_eq(KsCreateStream(plain, "camera"), VFW_E_WRONG_STATE);

	/* A consumer's frames come from the stream, not from the pool. */
	ck_assert_hr_eq(KsAllocateFrame(c, 0, &f), VFW_E_WRONG_STATE);
	ck_assert_hr_eq(IKsAllocatorEx_QueryInterface(c, &IID_IMemAllocator, (void **)&mem), S_OK);
	ck_assert_hr_eq(IMemAllocator_GetBuffer(mem, &s, NULL, NULL, AM_GBF_NOWAIT),
			VFW_E_WRONG_STATE);
	ck_assert_ptr_null(s);
	{
		ALLOCATOR_PROPERTIES req = { 4, 4096, 64, 0 }, act;

		ck_assert_hr_eq(IMemAllocator_SetProperties(mem, &req, &act), VFW_E_WRONG_STATE);
	}
	/* Its Decommit is its own: the producer's pool stays committed. */
	ck_assert_hr_eq(IMemAllocator_Decommit(mem), S_OK);
	ck_assert_hr_eq(KsAllocateFrame(p, 0, &f), S_OK);
	ck_assert_hr_eq(KsFreeFrame(p, &f), S_OK);
	ck_assert_hr_eq(IMemAllocator_Commit(mem), S_OK);
	IMemAllocator_Release(mem);
	/* ...and it describes the stream's pool. */
	ck_assert_ptr_eq(IKsAllocatorEx_KsGetAllocatorHandle(c),
			 IKsAllocatorEx_KsGetAllocatorHandle(p));
	ck_assert_int_eq(IKsAllocatorEx_KsGetProperties(c)->cBuffers, 4);

	/* Receiving is a consumer's, delivering a producer's. */
	ck_assert_hr_eq(KsStreamReceive(p, 0, &f, &h), VFW_E_WRONG_STATE);
	ck_assert_hr_eq(KsStreamReceive(plain, 0, &f, &h), VFW_E_WRONG_STATE);
	ck_assert_hr_eq(KsStreamReceiveSample(p, 0, &s), VFW_E_WRONG_STATE);
	ck_assert_hr_eq(KsAllocateFrame(plain, 0, &f), S_OK);
	h = header_of(0, &f);
	ck_assert_hr_eq(KsStreamDeliver(plain, &f, &h, 0), VFW_E_WRONG_STATE);
	ck_assert_hr_eq(KsFreeFrame(plain, &f), S_OK);
	h = header_of(0, NULL);
	h.DataUsed = 0;
	h.OptionsFlags = KSSTREAM_HEADER_OPTIONSF_ENDOFSTREAM;
	ck_assert_hr_eq(KsStreamDeliver(c, NULL, &h, 0), VFW_E_WRONG_STATE);

	/* NULL pointers. */
	ck_assert_hr_eq(KsCreateStream(NULL, "x"), E_POINTER);
	ck_assert_hr_eq(KsCreateStream(plain, NULL), E_POINTER);
	ck_assert_hr_eq(KsStreamReceive(NULL, 0, &f, &h), E_POINTER);
	ck_assert_hr_eq(KsStreamReceive(c, 0, NULL, &h), E_POINTER);
	ck_assert_hr_eq(KsStreamReceive(c, 0, &f, NULL), E_POINTER);
	ck_assert_hr_eq(KsStreamReceiveSample(NULL, 0, &s), E_POINTER);
	ck_assert_hr_eq(KsStreamReceiveSample(c, 0, NULL), E_POINTER);

	ck_assert_uint_eq(IKsAllocatorEx_Release(plain), 0);
	ck_assert_uint_eq(IKsAllocatorEx_Release(c), 0);
	ck_assert_uint_eq(IKsAllocatorEx_Release(p), 0);
	stop();
}
END_TEST

START_TEST(test_open_stream_reports_what_is_wrong)
{
	KSALLOC_STREAM_OPTIONS bad = { .Policy = (KSALLOC_STREAM_POLICY)7 };
	IKsAllocatorEx *c = (IKsAllocatorEx *)1, *p, *other;

	start();
	ck_assert_hr_eq(KsOpenStream("nosuch", NULL, &c), HRESULT_FROM_WIN32(ERROR_FILE_NOT_FOUND));
	ck_assert_ptr_null(c);
	c = (IKsAllocatorEx *)1;
	ck_assert_hr_eq(KsOpenStream(NULL, NULL, &c), E_POINTER);
	ck_assert_ptr_null(c);
	ck_assert_hr_eq(KsOpenStream("camera", NULL, NULL), E_POINTER);

	p = producer("video", "camera");
	ck_assert_hr_eq(KsOpenStream("camera", &bad, &c), E_INVALIDARG);
	ck_assert_ptr_null(c);
	bad = (KSALLOC_STREAM_OPTIONS){ .Depth = 65 };
	ck_assert_hr_eq(KsOpenStream("camera", &bad, &c), E_INVALIDARG);
	ck_assert_ptr_null(c);

	/* A stream whose producer went stays on its pool: another pool cannot take it over. */
	c = consumer("camera", KsStreamPolicy_Block, 0);
	ck_assert_uint_eq(IKsAllocatorEx_Release(p), 0);
	ck_assert_hr_eq(KsOpenAllocator("single", &other), S_OK);
	ck_assert_hr_eq(KsCreateStream(other, "camera"), HRESULT_FROM_WIN32(ERROR_NOT_SAME_DEVICE));
	/* Refused: no stream bound, so it may still make one of its own. */
	ck_assert_hr_eq(KsCreateStream(other, "preview"), S_OK);
	ck_assert_uint_eq(IKsAllocatorEx_Release(other), 0);
	ck_assert_uint_eq(IKsAllocatorEx_Release(c), 0);
	stop();
}
END_TEST

static Suite *ks_stream_suite(void)
{
	Suite *s = suite_create("ks-stream");
	TCase *tc;

	tc = tcase_create("delivery");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_frames_and_headers_reach_a_consumer_in_another_process);
	tcase_add_test(tc, test_the_first_frame_after_drops_carries_a_discontinuity);
	tcase_add_test(tc, test_the_last_release_of_a_sample_returns_the_frame);
	tcase_add_test(tc, test_ksfreeframe_gives_a_received_frame_back_once);
	tcase_add_test(tc, test_receive_times_out_as_ksallocateframe_does);
	tcase_add_test(tc, test_a_full_block_consumer_times_the_producer_out);
	tcase_add_test(tc, test_a_consumer_holds_no_more_than_maxheld_frames);
	tcase_add_test(tc, test_a_stream_takes_32_consumers_and_refuses_the_33rd);
	suite_add_tcase(s, tc);

	tc = tcase_create("end");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_a_frame_with_endofstream_is_the_last_one);
	tcase_add_test(tc, test_a_producer_that_goes_without_ending_breaks_the_pipe);
	suite_add_tcase(s, tc);

	tc = tcase_create("arguments");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_headers_that_do_not_describe_the_frame_are_refused);
	tcase_add_test(tc, test_each_allocator_plays_its_own_part);
	tcase_add_test(tc, test_open_stream_reports_what_is_wrong);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return ksalloc_check_run(ks_stream_suite());
}

/* SPDX-License-Identifier: MIT */
/*
 * ks-stream: frames from one process to others the Kernel Streaming way. Only
 * <ksalloc/ksproxy.h>; build it with
 *
 *   cc ks-stream.c $(pkg-config --cflags --libs ksalloc) -o ks-stream
 *
 * and run, while ksallocd serves pool POOL,
 *
 *   ks-stream consume STREAM           (in one or more terminals, once the producer runs)
 *   ks-stream produce POOL STREAM [N]  (delivers N frames, 30 a second, then the end)
 *
 * The producer fills a KSSTREAM_HEADER as for IOCTL_KS_WRITE_STREAM; the consumer reads one
 * as after IOCTL_KS_READ_STREAM. No frame is copied: each process maps the pool.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <ksalloc/ksproxy.h>

#define FRAME_TIME 333333 /* 100-ns units: 30 frames a second */

static int produce(const char *pool, const char *stream, int n)
{
	IKsAllocatorEx *allocator;
	KSSTREAM_HEADER header;
	KSALLOC_FRAME frame;
	HRESULT hr;

	/* The Linux part: a named pool and a named stream instead of connected pins. */
	hr = KsOpenAllocator(pool, &allocator);
	if (SUCCEEDED(hr))
		hr = KsCreateStream(allocator, stream);
	if (FAILED(hr)) {
		fprintf(stderr, "cannot produce into %s on %s: 0x%08x\n", stream, pool,
			(unsigned)hr);
		return 1;
	}
	for (int i = 0; i < n && SUCCEEDED(hr); i++) {
		struct timespec tick = { 0, FRAME_TIME * 100 };

		hr = KsAllocateFrame(allocator, INFINITE, &frame);
		if (FAILED(hr))
			break;
		snprintf(frame.Data, frame.Size, "frame %d", i);

		memset(&header, 0, sizeof(header));
		header.Size = sizeof(header);
		header.PresentationTime.Time = (LONGLONG)i * FRAME_TIME;
		header.PresentationTime.Numerator = 1;
		header.PresentationTime.Denominator = 1;
		header.Duration = FRAME_TIME;
		header.FrameExtent = frame.Size;
		header.DataUsed = (ULONG)strlen(frame.Data) + 1;
		header.Data = frame.Data;
		header.OptionsFlags = KSSTREAM_HEADER_OPTIONSF_TIMEVALID |
				      KSSTREAM_HEADER_OPTIONSF_DURATIONVALID;
		if (i % 30 == 0)
			header.OptionsFlags |= KSSTREAM_HEADER_OPTIONSF_SPLICEPOINT;

		/* Waits (1 s at most) for a consumer that asked for every frame to make room. */
		hr = KsStreamDeliver(allocator, &frame, &header, 1000);
		if (hr == VFW_E_TIMEOUT) {
			KsFreeFrame(allocator, &frame); /* nobody took it: still ours */
			hr = S_OK;
		}
		nanosleep(&tick, NULL);
	}
	if (SUCCEEDED(hr)) {
		/* A data-less end-of-stream packet, as Windows sends one. */
		memset(&header, 0, sizeof(header));
		header.Size = sizeof(header);
		header.OptionsFlags = KSSTREAM_HEADER_OPTIONSF_ENDOFSTREAM;
		hr = KsStreamDeliver(allocator, NULL, &header, INFINITE);
	}
	if (FAILED(hr))
		fprintf(stderr, "delivering failed: 0x%08x\n", (unsigned)hr);
	IKsAllocatorEx_Release(allocator);
	return FAILED(hr) ? 1 : 0;
}

static int consume(const char *stream, int n)
{
	/* Never hold the producer back: lose the oldest frame when 4 are waiting. */
	KSALLOC_STREAM_OPTIONS options = { KsStreamPolicy_DropOldest, 4, 0, TRUE };
	IKsAllocatorEx *allocator;
	KSSTREAM_HEADER header;
	KSALLOC_FRAME frame;
	HRESULT hr;

	hr = KsOpenStream(stream, &options, &allocator);
	if (FAILED(hr)) {
		fprintf(stderr, "cannot consume from %s: 0x%08x\n", stream, (unsigned)hr);
		return 1;
	}
	for (int i = 0; n <= 0 || i < n; i++) {
		hr = KsStreamReceive(allocator, INFINITE, &frame, &header);
		if (hr != S_OK)
			break; /* S_FALSE: the end of the stream */
		/* ULONG is 32-bit, as on Windows: %u, not %lu. */
		printf("%s: %u bytes, time %lld%s%s\n", (const char *)header.Data, header.DataUsed,
		       header.PresentationTime.Time,
		       header.OptionsFlags & KSSTREAM_HEADER_OPTIONSF_SPLICEPOINT ? ", key frame" :
										    "",
		       header.OptionsFlags & KSSTREAM_HEADER_OPTIONSF_DATADISCONTINUITY ?
			       ", after a loss" :
			       "");
		hr = KsFreeFrame(allocator, &frame);
		if (FAILED(hr))
			break;
	}
	if (hr == S_FALSE)
		printf("end of stream\n");
	else if (FAILED(hr))
		fprintf(stderr, "receiving failed: 0x%08x\n", (unsigned)hr);
	IKsAllocatorEx_Release(allocator);
	return FAILED(hr) ? 1 : 0;
}

int main(int argc, char **argv)
{
	if (argc >= 4 && strcmp(argv[1], "produce") == 0)
		return produce(argv[2], argv[3], argc > 4 ? atoi(argv[4]) : 300);
	if (argc >= 3 && strcmp(argv[1], "consume") == 0)
		return consume(argv[2], argc > 3 ? atoi(argv[3]) : 0);
	fprintf(stderr, "usage: %s produce POOL STREAM [N] | consume STREAM [N]\n", argv[0]);
	return 2;
}

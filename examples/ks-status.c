/* SPDX-License-Identifier: MIT */
/*
 * ks-status: print a pool's KSSTREAMALLOCATOR_STATUS the way a Windows KS
 * client reads it. Only <ksalloc/ksproxy.h>; build it with
 *
 *   cc ks-status.c $(pkg-config --cflags --libs ksalloc) -o ks-status
 *
 * and run it as `ks-status POOL` while ksallocd serves that pool.
 */
#include <stdio.h>

#include <ksalloc/ksproxy.h>

int main(int argc, char **argv)
{
	KSSTREAMALLOCATOR_STATUS status;
	IKsAllocatorEx *allocator;
	HRESULT hr;

	if (argc != 2) {
		fprintf(stderr, "usage: %s POOL\n", argv[0]);
		return 2;
	}
	/* The Linux part: a named pool instead of a pin's allocator. */
	hr = KsOpenAllocator(argv[1], &allocator);
	if (FAILED(hr)) {
		fprintf(stderr, "KsOpenAllocator(%s) failed: 0x%08x\n", argv[1], (unsigned)hr);
		return 1;
	}
	hr = IKsAllocator_KsGetAllocatorStatus((IKsAllocator *)allocator, &status);
	if (FAILED(hr)) {
		fprintf(stderr, "KsGetAllocatorStatus failed: 0x%08x\n", (unsigned)hr);
		IKsAllocatorEx_Release(allocator);
		return 1;
	}
	/* ULONG is 32-bit, as on Windows: %u, not %lu. */
	printf("Frames=%u FrameSize=%u FileAlignment=0x%x PoolType=%u OptionsFlags=0x%x "
	       "AllocatedFrames=%u\n",
	       status.Framing.Frames, status.Framing.FrameSize, status.Framing.FileAlignment,
	       status.Framing.PoolType, status.Framing.OptionsFlags, status.AllocatedFrames);
	IKsAllocatorEx_Release(allocator);
	return 0;
}

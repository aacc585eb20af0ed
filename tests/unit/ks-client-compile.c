/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Code written the way a Windows Kernel Streaming client writes it, against IKsAllocatorEx and
 * IKsAllocator through the C call macros. The build compiles it with -Wall -Wextra -Werror and
 * never links or runs it: it proves that such code builds unchanged against
 * <ksalloc/ksproxy.h>. The only Linux-specific part is OpenAndDescribeAllocator(), because a
 * Linux client opens a named pool where a Windows client asks its pin.
 */
#include <ksalloc/ksproxy.h>
#include <stdio.h>
#include <string.h>

HRESULT PrintAllocatorStatus(IKsAllocatorEx *AllocatorEx);
HRESULT PrintAllocatorProperties(IKsAllocatorEx *AllocatorEx);
HRESULT SwitchToKernelMode(IKsAllocatorEx *AllocatorEx, HANDLE *AllocatorHandle);
BOOL AllocatorUsesSystemMemory(IKsAllocatorEx *AllocatorEx);
HRESULT TryMemAllocator(IKsAllocatorEx *AllocatorEx);
HRESULT DescribeAllocator(IKsAllocatorEx *AllocatorEx);
HRESULT OpenAndDescribeAllocator(const char *PoolName);
HRESULT DeliverFrame(IKsAllocatorEx *AllocatorEx, REFERENCE_TIME Start, REFERENCE_TIME Duration,
		     const BYTE *Payload, ULONG PayloadSize, BOOL KeyFrame);
HRESULT DeliverEndOfStream(IKsAllocatorEx *AllocatorEx);
HRESULT ReceiveFrames(IKsAllocatorEx *AllocatorEx);
HRESULT ReceiveSamples(IKsAllocatorEx *AllocatorEx);
HRESULT ProduceIntoStream(const char *PoolName, const char *StreamName);
HRESULT ConsumeFromStream(const char *StreamName);

/*
 * Printing: ULONG and LONG are 32 bits wide on Windows and here, but Windows spells them
 * "unsigned long" / "long" and this header "unsigned int" / "int", so they print with %u / %d
 * (Windows code writes %lu / %ld). This is the one source difference the header leaves.
 */

HRESULT PrintAllocatorStatus(IKsAllocatorEx *AllocatorEx)
{
	IKsAllocator *KsAllocator = NULL;
	KSSTREAMALLOCATOR_STATUS Status;
	HRESULT hr;

	hr = IKsAllocatorEx_QueryInterface(AllocatorEx, &IID_IKsAllocator, (void **)&KsAllocator);
	if (FAILED(hr)) {
		printf("QueryInterface(IID_IKsAllocator) failed: 0x%08x\n", (unsigned int)hr);
		return hr;
	}

	hr = IKsAllocator_KsGetAllocatorStatus(KsAllocator, &Status);
	if (FAILED(hr)) {
		printf("KsGetAllocatorStatus failed: 0x%08x\n", (unsigned int)hr);
		IKsAllocator_Release(KsAllocator);
		return hr;
	}

	printf("Frames %u, FrameSize %u, FileAlignment 0x%x (%u-byte aligned)\n",
	       Status.Framing.Frames, Status.Framing.FrameSize, Status.Framing.FileAlignment,
	       Status.Framing.FileAlignment + 1);
	printf("PoolType %s, options 0x%x\n",
	       Status.Framing.PoolType == NonPagedPool ? "NonPagedPool" : "PagedPool",
	       Status.Framing.OptionsFlags);
	if (Status.Framing.OptionsFlags & KSALLOCATOR_OPTIONF_SYSTEM_MEMORY)
		printf("system memory\n");
	printf("AllocatedFrames %u of %u\n", Status.AllocatedFrames, Status.Framing.Frames);

	IKsAllocator_Release(KsAllocator);
	return S_OK;
}

HRESULT PrintAllocatorProperties(IKsAllocatorEx *AllocatorEx)
{
	PALLOCATOR_PROPERTIES_EX Properties;

	/* The allocator keeps ownership of what KsGetProperties returns. */
	Properties = IKsAllocatorEx_KsGetProperties(AllocatorEx);
	if (Properties == NULL)
		return E_FAIL;

	printf("cBuffers %d, cbBuffer %d, cbAlign %d, cbPrefix %d\n", Properties->cBuffers,
	       Properties->cbBuffer, Properties->cbAlign, Properties->cbPrefix);
	if (IsEqualGUID(&Properties->MemoryType, &KSMEMORY_TYPE_SYSTEM))
		printf("memory type: KSMEMORY_TYPE_SYSTEM\n");
	else if (IsEqualGUID(&Properties->MemoryType, &KSMEMORY_TYPE_DONT_CARE))
		printf("memory type: don't care\n");
	return S_OK;
}

HRESULT SwitchToKernelMode(IKsAllocatorEx *AllocatorEx, HANDLE *AllocatorHandle)
{
	HANDLE Handle;

	if (AllocatorHandle == NULL)
		return E_POINTER;

	if (IKsAllocatorEx_KsGetAllocatorMode(AllocatorEx) != KsAllocatorMode_Kernel)
		IKsAllocatorEx_KsSetAllocatorMode(AllocatorEx, KsAllocatorMode_Kernel);

	Handle = IKsAllocatorEx_KsGetAllocatorHandle(AllocatorEx);
	if (Handle == NULL || Handle == INVALID_HANDLE_VALUE)
		return E_HANDLE;

	printf("allocator handle %p, mode %d\n", Handle,
	       (int)IKsAllocatorEx_KsGetAllocatorMode(AllocatorEx));
	*AllocatorHandle = Handle;
	return S_OK;
}

BOOL AllocatorUsesSystemMemory(IKsAllocatorEx *AllocatorEx)
{
	PALLOCATOR_PROPERTIES_EX Properties = IKsAllocatorEx_KsGetProperties(AllocatorEx);

	return Properties != NULL && IsEqualGUID(&Properties->MemoryType, &KSMEMORY_TYPE_SYSTEM);
}

HRESULT TryMemAllocator(IKsAllocatorEx *AllocatorEx)
{
	IMemAllocator *MemAllocator = NULL;
	ALLOCATOR_PROPERTIES Properties;
	HRESULT hr;

	/* Not every KS allocator object also exposes DirectShow's interface. */
	hr = IKsAllocatorEx_QueryInterface(AllocatorEx, &IID_IMemAllocator, (void **)&MemAllocator);
	if (hr == E_NOINTERFACE)
		return S_FALSE;
	if (FAILED(hr))
		return hr;

	hr = IMemAllocator_GetProperties(MemAllocator, &Properties);
	if (SUCCEEDED(hr))
		printf("IMemAllocator: %d buffers of %d bytes\n", Properties.cBuffers,
		       Properties.cbBuffer);
	IMemAllocator_Release(MemAllocator);
	return hr;
}

HRESULT DescribeAllocator(IKsAllocatorEx *AllocatorEx)
{
	HANDLE Handle = NULL;
	HRESULT hr;

	if (AllocatorEx == NULL)
		return E_POINTER;

	/* Hold a reference of our own for as long as we use the caller's pointer. */
	IKsAllocatorEx_AddRef(AllocatorEx);

	hr = PrintAllocatorStatus(AllocatorEx);
	if (SUCCEEDED(hr))
		hr = PrintAllocatorProperties(AllocatorEx);
	if (SUCCEEDED(hr))
		hr = SwitchToKernelMode(AllocatorEx, &Handle);
	if (SUCCEEDED(hr) && !AllocatorUsesSystemMemory(AllocatorEx))
		printf("not system memory\n");
	if (SUCCEEDED(hr))
		hr = TryMemAllocator(AllocatorEx);

	IKsAllocatorEx_Release(AllocatorEx);
	return hr;
}

/* The Linux part: a Windows client would have been handed the allocator by its pin. */
HRESULT OpenAndDescribeAllocator(const char *PoolName)
{
	IKsAllocatorEx *AllocatorEx = NULL;
	HRESULT hr;

	hr = KsOpenAllocator(PoolName, &AllocatorEx);
	if (FAILED(hr)) {
		if (hr == HRESULT_FROM_WIN32(ERROR_SERVICE_NOT_ACTIVE))
			printf("ksallocd is not running\n");
		return hr;
	}

	hr = DescribeAllocator(AllocatorEx);
	IKsAllocatorEx_Release(AllocatorEx);
	return hr;
}

/*
 * Streams: the producer fills a KSSTREAM_HEADER as it would for IOCTL_KS_WRITE_STREAM, the
 * consumer reads one as after IOCTL_KS_READ_STREAM, or takes IMediaSamples as a DirectShow
 * filter does. Only the calls that create and attach the stream are Linux's own.
 */

/* A Windows client would check the layout it depends on the same way (C_ASSERT). */
_Static_assert(sizeof(KSSTREAM_HEADER) == 56, "KSSTREAM_HEADER is 56 bytes on x64");
_Static_assert(offsetof(KSSTREAM_HEADER, PresentationTime.Numerator) == 16,
	       "KSTIME.Numerator is at 16");
_Static_assert(offsetof(KSSTREAM_HEADER, Data) == 40, "Data is at 40");
_Static_assert(offsetof(KSSTREAM_HEADER, OptionsFlags) == 48, "OptionsFlags is at 48");

HRESULT DeliverFrame(IKsAllocatorEx *AllocatorEx, REFERENCE_TIME Start, REFERENCE_TIME Duration,
		     const BYTE *Payload, ULONG PayloadSize, BOOL KeyFrame)
{
	KSALLOC_FRAME Frame;
	KSSTREAM_HEADER Header;
	HRESULT hr;

	hr = KsAllocateFrame(AllocatorEx, INFINITE, &Frame);
	if (FAILED(hr))
		return hr;
	if (PayloadSize > Frame.Size) {
		KsFreeFrame(AllocatorEx, &Frame);
		return E_INVALIDARG;
	}
	memcpy(Frame.Data, Payload, PayloadSize);

	memset(&Header, 0, sizeof(Header));
	Header.Size = sizeof(KSSTREAM_HEADER);
	Header.TypeSpecificFlags = 0;
	Header.PresentationTime.Time = Start;
	Header.PresentationTime.Numerator = 1;
	Header.PresentationTime.Denominator = 1;
	Header.Duration = Duration;
	Header.FrameExtent = Frame.Size;
	Header.DataUsed = PayloadSize;
	Header.Data = Frame.Data;
	Header.OptionsFlags = KSSTREAM_HEADER_OPTIONSF_TIMEVALID |
			      KSSTREAM_HEADER_OPTIONSF_DURATIONVALID;
	if (KeyFrame)
		Header.OptionsFlags |= KSSTREAM_HEADER_OPTIONSF_SPLICEPOINT;

	hr = KsStreamDeliver(AllocatorEx, &Frame, &Header, INFINITE);
	if (hr == VFW_E_TIMEOUT) {
		/* Nobody took it: the frame is still ours. */
		KsFreeFrame(AllocatorEx, &Frame);
		return hr;
	}
	if (hr == S_FALSE)
		printf("no consumer took the frame\n");
	return hr;
}

HRESULT DeliverEndOfStream(IKsAllocatorEx *AllocatorEx)
{
	KSSTREAM_HEADER Header;

	memset(&Header, 0, sizeof(Header));
	Header.Size = sizeof(Header);
	Header.OptionsFlags = KSSTREAM_HEADER_OPTIONSF_ENDOFSTREAM;
	return KsStreamDeliver(AllocatorEx, NULL, &Header, INFINITE);
}

HRESULT ReceiveFrames(IKsAllocatorEx *AllocatorEx)
{
	KSALLOC_FRAME Frame;
	KSSTREAM_HEADER Header;
	PKSSTREAM_HEADER StreamHeader = &Header;
	PKSTIME Time = &StreamHeader->PresentationTime;
	HRESULT hr;

	for (;;) {
		hr = KsStreamReceive(AllocatorEx, 1000, &Frame, StreamHeader);
		if (hr == VFW_E_TIMEOUT)
			continue;
		if (FAILED(hr))
			return hr;
		if (StreamHeader->OptionsFlags & KSSTREAM_HEADER_OPTIONSF_ENDOFSTREAM &&
		    StreamHeader->DataUsed == 0)
			return S_OK;
		if (StreamHeader->OptionsFlags & KSSTREAM_HEADER_OPTIONSF_DATADISCONTINUITY)
			printf("frames were lost\n");
		if (StreamHeader->OptionsFlags & KSSTREAM_HEADER_OPTIONSF_TIMEVALID)
			printf("time %lld (%u/%u), duration %lld\n", Time->Time, Time->Numerator,
			       Time->Denominator, StreamHeader->Duration);
		printf("%u of %u bytes at %p, first byte %u\n", StreamHeader->DataUsed,
		       StreamHeader->FrameExtent, StreamHeader->Data,
		       StreamHeader->DataUsed ?
			       (unsigned int)((const BYTE *)StreamHeader->Data)[0] :
			       0u);
		hr = KsFreeFrame(AllocatorEx, &Frame);
		if (FAILED(hr))
			return hr;
	}
}

HRESULT ReceiveSamples(IKsAllocatorEx *AllocatorEx)
{
	IMediaSample *Sample = NULL;
	REFERENCE_TIME Start, Stop;
	BYTE *Buffer = NULL;
	HRESULT hr;

	while ((hr = KsStreamReceiveSample(AllocatorEx, INFINITE, &Sample)) == S_OK) {
		IMediaSample_GetPointer(Sample, &Buffer);
		if (IMediaSample_IsDiscontinuity(Sample) == S_OK)
			printf("discontinuity\n");
		if (IMediaSample_IsSyncPoint(Sample) == S_OK)
			printf("key frame\n");
		if (IMediaSample_IsPreroll(Sample) == S_OK)
			printf("preroll\n");
		if (SUCCEEDED(IMediaSample_GetTime(Sample, &Start, &Stop)))
			printf("%lld to %lld\n", Start, Stop);
		printf("%d of %d bytes at %p\n", IMediaSample_GetActualDataLength(Sample),
		       IMediaSample_GetSize(Sample), (void *)Buffer);
		{
			IMediaSample2 *Sample2 = NULL;
			AM_SAMPLE2_PROPERTIES Props;

			if (SUCCEEDED(IMediaSample_QueryInterface(Sample, &IID_IMediaSample2,
								  (void **)&Sample2))) {
				if (SUCCEEDED(IMediaSample2_GetProperties(Sample2, sizeof(Props),
									  (BYTE *)&Props)) &&
				    (Props.dwSampleFlags & AM_SAMPLE_TIMEDISCONTINUITY))
					printf("type flags 0x%x, a gap after this one\n",
					       Props.dwTypeSpecificFlags);
				IMediaSample2_Release(Sample2);
			}
		}
		/* The last Release gives the frame back. */
		IMediaSample_Release(Sample);
	}
	/* S_FALSE: the end of the stream. */
	return FAILED(hr) ? hr : S_OK;
}

/* The Linux part: naming the pool and the stream, where Windows connects pins. */
HRESULT ProduceIntoStream(const char *PoolName, const char *StreamName)
{
	static const BYTE Payload[] = { 1, 2, 3, 4 };
	IKsAllocatorEx *AllocatorEx = NULL;
	HRESULT hr;

	hr = KsOpenAllocator(PoolName, &AllocatorEx);
	if (FAILED(hr))
		return hr;
	hr = KsCreateStream(AllocatorEx, StreamName);
	for (int i = 0; SUCCEEDED(hr) && i < 10; i++)
		hr = DeliverFrame(AllocatorEx, i * 333333LL, 333333LL, Payload, sizeof(Payload),
				  i == 0);
	if (SUCCEEDED(hr))
		hr = DeliverEndOfStream(AllocatorEx);
	IKsAllocatorEx_Release(AllocatorEx);
	return hr;
}

HRESULT ConsumeFromStream(const char *StreamName)
{
	KSALLOC_STREAM_OPTIONS Options = { KsStreamPolicy_DropOldest, 2, 4, TRUE };
	IKsAllocatorEx *AllocatorEx = NULL;
	HRESULT hr;

	hr = KsOpenStream(StreamName, &Options, &AllocatorEx);
	if (FAILED(hr)) {
		if (hr == HRESULT_FROM_WIN32(ERROR_FILE_NOT_FOUND))
			printf("no stream %s\n", StreamName);
		return hr;
	}
	hr = ReceiveFrames(AllocatorEx);
	if (SUCCEEDED(hr))
		hr = ReceiveSamples(AllocatorEx);
	IKsAllocatorEx_Release(AllocatorEx);
	return hr;
}

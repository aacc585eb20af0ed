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

HRESULT PrintAllocatorStatus(IKsAllocatorEx *AllocatorEx);
HRESULT PrintAllocatorProperties(IKsAllocatorEx *AllocatorEx);
HRESULT SwitchToKernelMode(IKsAllocatorEx *AllocatorEx, HANDLE *AllocatorHandle);
BOOL AllocatorUsesSystemMemory(IKsAllocatorEx *AllocatorEx);
HRESULT TryMemAllocator(IKsAllocatorEx *AllocatorEx);
HRESULT DescribeAllocator(IKsAllocatorEx *AllocatorEx);
HRESULT OpenAndDescribeAllocator(const char *PoolName);

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

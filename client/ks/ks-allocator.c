/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The Windows shape: IKsAllocatorEx as a C COM object over the native API, and the Ks* calls
 * that make one and take and give back its frames. It translates arguments and results
 * (errno to HRESULT through proto/hresult) and does nothing else. The object, with the
 * IUnknown and the frame accounting its interfaces share, is in object.c; the same object is
 * also an IMemAllocator, whose methods are in ks-memallocator.c.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <ksalloc/ksalloc.h>
#include <ksalloc/ksproxy.h>

#include "client/ks/ks-allocator.h"
#include "client/ks/ks-memallocator.h"
#include "client/ks/object.h"
#include "proto/hresult.h"

static struct ks_allocator *from_iface(IKsAllocatorEx *This)
{
	return ks_allocator_from_iface(This);
}

static ULONG STDMETHODCALLTYPE ks_add_ref(IKsAllocatorEx *This)
{
	return ks_allocator_ref(from_iface(This));
}

static ULONG STDMETHODCALLTYPE ks_release(IKsAllocatorEx *This)
{
	return ks_allocator_unref(from_iface(This));
}

static HRESULT STDMETHODCALLTYPE ks_query_interface(IKsAllocatorEx *This, REFIID riid,
						    void **ppvObject)
{
	return ks_allocator_query_interface(from_iface(This), riid, ppvObject);
}

static HANDLE STDMETHODCALLTYPE ks_get_allocator_handle(IKsAllocatorEx *This)
{
	return from_iface(This)->handle;
}

static KSALLOCATORMODE STDMETHODCALLTYPE ks_get_allocator_mode(IKsAllocatorEx *This)
{
	return from_iface(This)->mode;
}

static HRESULT STDMETHODCALLTYPE ks_get_allocator_status(IKsAllocatorEx *This,
							 PKSSTREAMALLOCATOR_STATUS AllocatorStatus)
{
	struct ksalloc_status st;
	int r;

	if (!AllocatorStatus)
		return E_POINTER;
	r = ksalloc_pool_status(from_iface(This)->pool, &st);
	if (r < 0)
		return hresult_from_errno(r);
	memset(AllocatorStatus, 0, sizeof(*AllocatorStatus));
	AllocatorStatus->Framing.OptionsFlags = st.framing.options_flags;
	AllocatorStatus->Framing.PoolType = st.framing.pool_type;
	AllocatorStatus->Framing.Frames = st.framing.frames;
	AllocatorStatus->Framing.FrameSize = st.framing.frame_size;
	AllocatorStatus->Framing.FileAlignment = st.framing.file_alignment;
	AllocatorStatus->AllocatedFrames = st.allocated_frames;
	return S_OK;
}

static VOID STDMETHODCALLTYPE ks_set_allocator_mode(IKsAllocatorEx *This, KSALLOCATORMODE Mode)
{
	from_iface(This)->mode = Mode;
}

static PALLOCATOR_PROPERTIES_EX STDMETHODCALLTYPE ks_get_properties(IKsAllocatorEx *This)
{
	/* The object's own copy, as Windows' proxy returns it: not to be freed. */
	return &from_iface(This)->properties;
}

static VOID STDMETHODCALLTYPE ks_set_properties(IKsAllocatorEx *This,
						PALLOCATOR_PROPERTIES_EX Properties)
{
	struct ks_allocator *a = from_iface(This);

	if (!Properties)
		return;
	/* IMemAllocator's SetProperties and Commit write parts of it under this lock too. */
	pthread_mutex_lock(&a->lock);
	a->properties = *Properties;
	pthread_mutex_unlock(&a->lock);
}

static VOID STDMETHODCALLTYPE ks_set_allocator_handle(IKsAllocatorEx *This, HANDLE AllocatorHandle)
{
	from_iface(This)->handle = AllocatorHandle;
}

static HANDLE STDMETHODCALLTYPE ks_create_allocator_and_get_handle(IKsAllocatorEx *This,
								   IKsPin *KsPin)
{
	/* There are no kernel pins on Linux to create an allocator on. */
	return NULL;
}

static const IKsAllocatorExVtbl ks_allocator_vtbl = {
	.QueryInterface = ks_query_interface,
	.AddRef = ks_add_ref,
	.Release = ks_release,
	.KsGetAllocatorHandle = ks_get_allocator_handle,
	.KsGetAllocatorMode = ks_get_allocator_mode,
	.KsGetAllocatorStatus = ks_get_allocator_status,
	.KsSetAllocatorMode = ks_set_allocator_mode,
	.KsGetProperties = ks_get_properties,
	.KsSetProperties = ks_set_properties,
	.KsSetAllocatorHandle = ks_set_allocator_handle,
	.KsCreateAllocatorAndGetHandle = ks_create_allocator_and_get_handle,
};

/* The properties Windows' proxy would derive from the pool: its framing, and its memory. */
static void properties_from_pool(const struct ksalloc_pool_info *info, ALLOCATOR_PROPERTIES_EX *p)
{
	static const KS_COMPRESSION unity = { 1, 1, 0 };
	const struct ksalloc_framing *f = &info->status.framing;
	bool paged = f->pool_type == 1;
	/* Pools whose frames are dma-bufs are what a device-specific memory type asks for. */
	bool device = strcmp(info->backend, "udmabuf") == 0 ||
		      strncmp(info->backend, "dmaheap:", strlen("dmaheap:")) == 0;

	memset(p, 0, sizeof(*p));
	p->cBuffers = (LONG)f->frames;
	p->cbBuffer = (LONG)f->frame_size;
	p->cbAlign = (LONG)(f->file_alignment + 1);
	p->cbPrefix = 0;
	p->MemoryType = device ? KSMEMORY_TYPE_DEVICE_UNKNOWN :
			paged  ? KSMEMORY_TYPE_KERNEL_PAGED :
				 KSMEMORY_TYPE_KERNEL_NONPAGED;
	p->BusType = GUID_NULL;
	p->State = PipeState_Finalized;
	p->Flags = f->options_flags | (device ? KSALLOCATOR_FLAG_DEVICE_SPECIFIC : 0);
	p->LogicalMemoryType = device ? KS_MemoryTypeDeviceSpecific :
			       paged  ? KS_MemoryTypeKernelPaged :
					KS_MemoryTypeKernelNonPaged;
	p->Dimensions.AllocatorPin = unity;
	p->Dimensions.MaxExpansionPin = unity;
	p->Dimensions.EndPin = unity;
	p->PhysicalRange.MinFrameSize = f->frame_size;
	p->PhysicalRange.MaxFrameSize = f->frame_size;
	p->PhysicalRange.Stepping = 1;
}

void ks_allocator_setup(struct ks_allocator *a)
{
	a->iface.lpVtbl = &ks_allocator_vtbl;
	a->mode = KsAllocatorMode_User;
	a->handle = (HANDLE)(uintptr_t)ksalloc_pool_get_info(a->pool)->pool_id;
	properties_from_pool(ksalloc_pool_get_info(a->pool), &a->properties);
	ks_mem_allocator_init(a);
}

/*
 * The object's final step: a new client, the pool (opened when @framing is NULL, else created
 * as @opts says), and the Windows view of it.
 */
static HRESULT allocator_new(const char *name, const struct ksalloc_framing *framing,
			     const struct ksalloc_pool_options *opts, IKsAllocatorEx **Allocator)
{
	struct ks_allocator *a;
	int r;

	if (!Allocator)
		return E_POINTER;
	*Allocator = NULL;
	if (!name)
		return E_POINTER;

	r = ks_allocator_new(name, framing, opts, &a);
	if (r < 0)
		return hresult_from_errno(r);
	ks_allocator_setup(a);
	*Allocator = &a->iface;
	return S_OK;
}

KSALLOC_EXPORT HRESULT KsOpenAllocator(const char *PoolName, IKsAllocatorEx **Allocator)
{
	return allocator_new(PoolName, NULL, NULL, Allocator);
}

KSALLOC_EXPORT HRESULT KsCreateNamedAllocator(const char *PoolName,
					      const KSALLOCATOR_FRAMING *Framing,
					      IKsAllocatorEx **Allocator)
{
	struct ksalloc_pool_options opts = { 0 };
	struct ksalloc_framing f;

	if (!Framing) {
		if (Allocator)
			*Allocator = NULL;
		return E_POINTER;
	}
	/* Reserved must be 0, as Windows' KsValidateAllocatorFramingEx insists. */
	if (Framing->Reserved != 0) {
		if (Allocator)
			*Allocator = NULL;
		return E_INVALIDARG;
	}
	f = (struct ksalloc_framing){
		.options_flags = Framing->OptionsFlags,
		.pool_type = Framing->PoolType,
		.frames = Framing->Frames,
		.frame_size = Framing->FrameSize,
		.file_alignment = Framing->FileAlignment,
	};
	/* NonPagedPool: pages that are never paged out. */
	opts.locked = Framing->PoolType == NonPagedPool;
	return allocator_new(PoolName, &f, &opts, Allocator);
}

KSALLOC_EXPORT HRESULT KsCreateNamedAllocatorEx(const char *PoolName,
						const KSALLOCATOR_FRAMING_EX *FramingEx,
						IKsAllocatorEx **Allocator)
{
	struct ksalloc_pool_options opts = { 0 };
	const KS_FRAMING_ITEM *item;
	struct ksalloc_framing f;
	bool paged = false;

	if (Allocator)
		*Allocator = NULL;
	if (!FramingEx)
		return E_POINTER;
	/* One item, the one the pool is made of: more would need the pin's choice of one. */
	if (FramingEx->CountItems != 1)
		return E_INVALIDARG;
	item = &FramingEx->FramingItem[0];
	if (IsEqualGUID(&item->MemoryType, &KSMEMORY_TYPE_DEVICE_UNKNOWN) ||
	    (item->Flags & KSALLOCATOR_FLAG_DEVICE_SPECIFIC))
		opts.backend = KSALLOC_BACKEND_DEVICE;
	else if (IsEqualGUID(&item->MemoryType, &KSMEMORY_TYPE_KERNEL_NONPAGED))
		opts.locked = true;
	else if (IsEqualGUID(&item->MemoryType, &KSMEMORY_TYPE_KERNEL_PAGED) ||
		 IsEqualGUID(&item->MemoryType, &KSMEMORY_TYPE_SYSTEM) ||
		 IsEqualGUID(&item->MemoryType, &KSMEMORY_TYPE_USER) ||
		 IsEqualGUID(&item->MemoryType, &KSMEMORY_TYPE_DONT_CARE))
		paged = true;
	else
		return E_INVALIDARG; /* a memory type this allocator does not know */
	f = (struct ksalloc_framing){
		/* The item's Flags carry OPTIONF, REQUIREMENTF and FLAG bits; the pool keeps the options. */
		.options_flags = item->Flags & KSALLOCATOR_OPTIONF_VALID,
		.pool_type = paged ? PagedPool : NonPagedPool,
		.frames = item->Frames,
		.frame_size = item->FramingRange.Range.MaxFrameSize,
		.file_alignment = item->FileAlignment,
	};
	return allocator_new(PoolName, &f, &opts, Allocator);
}

KSALLOC_EXPORT HRESULT KsAllocateFrame(IKsAllocatorEx *Allocator, ULONG TimeoutMs,
				       KSALLOC_FRAME *Frame)
{
	struct ksalloc_frame f;
	int r;

	if (!Allocator || !Frame)
		return E_POINTER;
	/* INFINITE and KSALLOC_INFINITE are the same all-ones value. */
	r = ks_allocator_acquire(from_iface(Allocator), TimeoutMs, &f, NULL);
	if (r < 0)
		return hresult_from_errno(r);
	*Frame = (KSALLOC_FRAME){
		.Data = f.data,
		.Size = f.size,
		.Index = f.index,
		.Generation = f.generation,
		.PoolId = f.pool_id,
		.DmaBufFd = f.dmabuf_fd,
		.Access = f.access,
	};
	return S_OK;
}

KSALLOC_EXPORT HRESULT KsFreeFrame(IKsAllocatorEx *Allocator, KSALLOC_FRAME *Frame)
{
	struct ksalloc_frame f;

	if (!Allocator || !Frame)
		return E_POINTER;
	f = (struct ksalloc_frame){
		.data = Frame->Data,
		.size = Frame->Size,
		.index = Frame->Index,
		.generation = Frame->Generation,
		.pool_id = Frame->PoolId,
		.dmabuf_fd = Frame->DmaBufFd,
		.access = Frame->Access,
	};
	return hresult_from_errno(ks_allocator_release(from_iface(Allocator), &f));
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The Windows shape: IKsAllocatorEx as a C COM object over the native API.
 * It translates arguments and results (errno to HRESULT through proto/hresult)
 * and does nothing else. The same object is also an IMemAllocator, whose
 * methods are in ks-memallocator.c; ks-allocator.h has the object.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <ksalloc/ksalloc.h>
#include <ksalloc/ksproxy.h>

#include "hresult.h"
#include "ks-allocator.h"

static struct ks_allocator *from_iface(IKsAllocatorEx *This)
{
	return ks_allocator_from_iface(This);
}

ULONG ks_allocator_ref(struct ks_allocator *a)
{
	return atomic_fetch_add(&a->refs, 1) + 1;
}

ULONG ks_allocator_unref(struct ks_allocator *a)
{
	ULONG refs = atomic_fetch_sub(&a->refs, 1) - 1;

	if (refs == 0) {
		/* No sample is out: each holds a reference. */
		ks_mem_allocator_deinit(a);
		ksalloc_pool_close(a->pool);
		ksalloc_client_close(a->client);
		free(a);
	}
	return refs;
}

HRESULT ks_allocator_query_interface(struct ks_allocator *a, REFIID riid, void **ppvObject)
{
	if (!ppvObject)
		return E_POINTER;
	*ppvObject = NULL;
	if (!riid)
		return E_POINTER;
	/*
	 * IKsAllocatorEx extends IKsAllocator extends IUnknown: one vtable serves all three, and
	 * IUnknown is always this pointer, whichever interface is asked, so that comparing
	 * IUnknown pointers tells whether two interfaces belong to one object.
	 */
	if (IsEqualIID(riid, &IID_IUnknown) || IsEqualIID(riid, &IID_IKsAllocator) ||
	    IsEqualIID(riid, &IID_IKsAllocatorEx))
		*ppvObject = &a->iface;
	/* IMemAllocatorCallbackTemp extends IMemAllocator: one vtable serves both. */
	else if (IsEqualIID(riid, &IID_IMemAllocator) ||
		 IsEqualIID(riid, &IID_IMemAllocatorCallbackTemp))
		*ppvObject = &a->mem_iface;
	else
		return E_NOINTERFACE;
	ks_allocator_ref(a);
	return S_OK;
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

static HANDLE STDMETHODCALLTYPE ks_create_allocator_and_get_handle(IKsAllocatorEx *This, IKsPin *KsPin)
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

/* The properties Windows' proxy would derive from the pool's framing. */
static void properties_from_framing(const struct ksalloc_framing *f, ALLOCATOR_PROPERTIES_EX *p)
{
	static const KS_COMPRESSION unity = { 1, 1, 0 };
	bool paged = f->pool_type == 1;

	memset(p, 0, sizeof(*p));
	p->cBuffers = (LONG)f->frames;
	p->cbBuffer = (LONG)f->frame_size;
	p->cbAlign = (LONG)(f->file_alignment + 1);
	p->cbPrefix = 0;
	p->MemoryType = paged ? KSMEMORY_TYPE_KERNEL_PAGED : KSMEMORY_TYPE_KERNEL_NONPAGED;
	p->BusType = GUID_NULL;
	p->State = PipeState_Finalized;
	p->Flags = f->options_flags;
	p->LogicalMemoryType = paged ? KS_MemoryTypeKernelPaged : KS_MemoryTypeKernelNonPaged;
	p->Dimensions.AllocatorPin = unity;
	p->Dimensions.MaxExpansionPin = unity;
	p->Dimensions.EndPin = unity;
	p->PhysicalRange.MinFrameSize = f->frame_size;
	p->PhysicalRange.MaxFrameSize = f->frame_size;
	p->PhysicalRange.Stepping = 1;
}

/* The object's final step: a new client, a pool opened by @open, and the Windows view of it. */
static HRESULT allocator_new(int (*open)(struct ksalloc_client *c, const char *name,
					 const struct ksalloc_framing *framing,
					 struct ksalloc_pool **ret_pool),
			     const char *name, const struct ksalloc_framing *framing,
			     IKsAllocatorEx **Allocator)
{
	struct ks_allocator *a;
	int r;

	if (!Allocator)
		return E_POINTER;
	*Allocator = NULL;
	if (!name)
		return E_POINTER;

	a = calloc(1, sizeof(*a));
	if (!a)
		return E_OUTOFMEMORY;
	a->iface.lpVtbl = &ks_allocator_vtbl;
	atomic_init(&a->refs, 1);
	a->mode = KsAllocatorMode_User;

	r = ksalloc_client_open(NULL, &a->client);
	if (r == 0)
		r = open(a->client, name, framing, &a->pool);
	if (r < 0) {
		ksalloc_client_close(a->client);
		free(a);
		return hresult_from_errno(r);
	}
	a->handle = (HANDLE)(uintptr_t)ksalloc_pool_get_info(a->pool)->pool_id;
	properties_from_framing(&ksalloc_pool_get_info(a->pool)->status.framing, &a->properties);
	r = ks_mem_allocator_init(a);
	if (r < 0) {
		ksalloc_pool_close(a->pool);
		ksalloc_client_close(a->client);
		free(a);
		return hresult_from_errno(r);
	}
	*Allocator = &a->iface;
	return S_OK;
}

static int open_existing(struct ksalloc_client *c, const char *name,
			 const struct ksalloc_framing *framing, struct ksalloc_pool **ret_pool)
{
	return ksalloc_pool_open(c, name, ret_pool);
}

KSALLOC_EXPORT HRESULT KsOpenAllocator(const char *PoolName, IKsAllocatorEx **Allocator)
{
	return allocator_new(open_existing, PoolName, NULL, Allocator);
}

KSALLOC_EXPORT HRESULT KsCreateNamedAllocator(const char *PoolName,
					      const KSALLOCATOR_FRAMING *Framing,
					      IKsAllocatorEx **Allocator)
{
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
	return allocator_new(ksalloc_pool_create, PoolName, &f, Allocator);
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
	};
	return hresult_from_errno(ks_allocator_release(from_iface(Allocator), &f));
}

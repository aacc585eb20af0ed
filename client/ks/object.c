/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The allocator object of the KS shim (object.h): its lifetime, the IUnknown its two
 * interfaces share, the frames it holds, and its end of a stream. Like the rest of the shim
 * it translates, and keeps only the state the Windows shape needs.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>

#include <ksalloc/ksalloc.h>
#include <ksalloc/ksproxy.h>

#include "client/ks/object.h"

/* The locks the object's interfaces share (the rules are in ks-memallocator.c). */
static int locks_init(struct ks_allocator *a)
{
	pthread_rwlockattr_t attr;
	int r;

	r = pthread_mutex_init(&a->lock, NULL);
	if (r)
		return -r;
	r = pthread_mutex_init(&a->notify_lock, NULL);
	if (r)
		goto undo_lock;
	r = pthread_rwlockattr_init(&attr);
	if (r)
		goto undo_notify_lock;
	/*
	 * Writer first, so that a Commit waiting to reshape is not starved by a stream of
	 * acquires. Nothing takes the lock shared twice in one thread, as that kind requires.
	 */
	pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	r = pthread_rwlock_init(&a->pool_lock, &attr);
	pthread_rwlockattr_destroy(&attr);
	if (r)
		goto undo_notify_lock;
	return 0;

undo_notify_lock:
	pthread_mutex_destroy(&a->notify_lock);
undo_lock:
	pthread_mutex_destroy(&a->lock);
	return -r;
}

int ks_allocator_new(const char *name, const struct ksalloc_framing *framing,
		     const struct ksalloc_pool_options *opts, struct ks_allocator **ret_allocator)
{
	struct ks_allocator *a;
	int r;

	a = calloc(1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	atomic_init(&a->refs, 1);

	r = ksalloc_client_open(NULL, &a->client);
	if (r == 0)
		r = framing ? ksalloc_pool_create_with(a->client, name, framing, opts, &a->pool) :
			      ksalloc_pool_open(a->client, name, &a->pool);
	if (r < 0)
		goto undo_client;
	r = locks_init(a);
	if (r < 0)
		goto undo_pool;
	atomic_init(&a->frames_out, 0);
	a->notify = NULL;
	*ret_allocator = a;
	return 0;

undo_pool:
	ksalloc_pool_close(a->pool);
undo_client:
	ksalloc_client_close(a->client);
	free(a);
	return r;
}

int ks_allocator_new_consumer(const char *name, const struct ksalloc_stream_open_options *opts,
			      struct ks_allocator **ret_allocator)
{
	struct ks_allocator *a;
	int r;

	a = calloc(1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	atomic_init(&a->refs, 1);
	a->consumer = true;

	r = ksalloc_client_open(NULL, &a->client);
	if (r == 0)
		r = ksalloc_stream_open(a->client, name, opts, &a->stream);
	if (r < 0)
		goto undo_client;
	/* The stream opened its pool for it, and closes it. */
	a->pool = ksalloc_stream_get_pool(a->stream);
	r = locks_init(a);
	if (r < 0)
		goto undo_stream;
	atomic_init(&a->frames_out, 0);
	a->notify = NULL;
	*ret_allocator = a;
	return 0;

undo_stream:
	ksalloc_stream_close(a->stream);
undo_client:
	ksalloc_client_close(a->client);
	free(a);
	return r;
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
		if (a->notify)
			IMemAllocatorNotifyCallbackTemp_Release(a->notify);
		pthread_rwlock_destroy(&a->pool_lock);
		pthread_mutex_destroy(&a->notify_lock);
		pthread_mutex_destroy(&a->lock);
		/* Detaches: a consumer's frames go back, a producer's consumers see it go. */
		ksalloc_stream_close(a->stream);
		if (!a->consumer)
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

int ks_allocator_acquire(struct ks_allocator *a, uint32_t timeout_ms,
			 struct ksalloc_frame *ret_frame, ALLOCATOR_PROPERTIES *ret_in_effect)
{
	int r;

	/* A consumer's frames come from its stream (ks_allocator_receive). */
	if (a->consumer)
		return -EBUSY;
	pthread_rwlock_rdlock(&a->pool_lock);
	r = ksalloc_pool_acquire(a->pool, timeout_ms, ret_frame);
	if (r == 0) {
		atomic_fetch_add(&a->frames_out, 1);
		if (ret_in_effect)
			*ret_in_effect = a->in_effect;
	}
	pthread_rwlock_unlock(&a->pool_lock);
	return r;
}

int ks_allocator_release(struct ks_allocator *a, const struct ksalloc_frame *frame)
{
	/*
	 * No lock (see the top of ks-memallocator.c): a frame we hold keeps frames_out above 0,
	 * and so the mapping in place, until the decrement below, which comes after the last
	 * access.
	 */
	int r = a->consumer ? ksalloc_stream_release(a->stream, frame) :
			      ksalloc_pool_release(a->pool, frame);

	if (r == 0)
		atomic_fetch_sub(&a->frames_out, 1);
	return r;
}

int ks_allocator_publish(struct ks_allocator *a, const struct ksalloc_frame *frame,
			 const struct ksalloc_frame_meta *meta, uint32_t timeout_ms)
{
	int r;

	if (a->consumer || !a->stream)
		return -EBUSY;
	/*
	 * No lock, as for a release: the frame is ours, so frames_out keeps the mapping in place
	 * until the decrement, after the publish is done with it.
	 */
	r = ksalloc_stream_publish(a->stream, frame, meta, timeout_ms);
	if (r >= 0)
		atomic_fetch_sub(&a->frames_out, 1);
	return r;
}

int ks_allocator_receive(struct ks_allocator *a, uint32_t timeout_ms,
			 struct ksalloc_frame *ret_frame, struct ksalloc_frame_meta *ret_meta)
{
	int r;

	if (!a->consumer)
		return -EBUSY;
	/* As an acquire: the frame arrives in the pool's mapping, which must not move under it. */
	pthread_rwlock_rdlock(&a->pool_lock);
	r = ksalloc_stream_receive(a->stream, timeout_ms, ret_frame, ret_meta);
	if (r == 0)
		atomic_fetch_add(&a->frames_out, 1);
	pthread_rwlock_unlock(&a->pool_lock);
	return r;
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The allocator object behind KsOpenAllocator() and KsCreateNamedAllocator(): one C COM object
 * with two interface pointers, the usual C pattern for an object with several interfaces.
 * object.c has the object itself: its lifetime, the IUnknown both interfaces share
 * (QueryInterface and the reference count), the frames it holds, and the stream it produces
 * into or consumes from. The interfaces use it and not each other's insides: ks-allocator.c
 * has IKsAllocatorEx and the Ks* entry points, ks-memallocator.c has IMemAllocator (an
 * IMemAllocatorCallbackTemp) and the samples, ks-stream.c the stream entry points. So the
 * calls point one way: ks-stream.c -> ks-allocator.c -> ks-memallocator.c -> object.c, and
 * each of them -> object.c. Private to those files.
 */

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ksalloc/ksalloc.h>
#include <ksalloc/ksproxy.h>

#include "common/macro.h"

struct ks_allocator {
	IKsAllocatorEx iface; /* first: the IKsAllocatorEx pointer is the object pointer */
	/*
	 * The IMemAllocator pointer. IMemAllocatorCallbackTemp's table begins with
	 * IMemAllocator's nine slots, so one pointer serves both interfaces.
	 */
	IMemAllocatorCallbackTemp mem_iface;
	/* One count for both pointers; every sample out holds one too. */
	atomic_uint refs;
	struct ksalloc_client *client; /* this object's own session with the daemon */
	/* The pool; a consumer's (@consumer) belongs to its stream, which closes it. */
	struct ksalloc_pool *pool;
	/*
	 * The stream this object produces into (KsCreateStream, under @lock; the producer's
	 * thread reads it without) or consumes from (KsOpenStream, from the start), or NULL.
	 */
	struct ksalloc_stream *stream;
	/* Made by KsOpenStream: its frames come from @stream, not from acquires of @pool. */
	bool consumer;
	KSALLOCATORMODE mode;
	HANDLE handle;
	ALLOCATOR_PROPERTIES_EX properties; /* KsGetProperties(); under lock for IMemAllocator */

	/*
	 * IMemAllocator's state. The locking rules are in ks-memallocator.c; in short: @lock
	 * serializes the slow calls (SetProperties, GetProperties, Commit, Decommit), @pool_lock
	 * is held shared around every acquire and exclusively while the pool is reshaped or
	 * @in_effect changes, and the counters are atomic so that the frame path takes no mutex.
	 */
	pthread_mutex_t lock;
	pthread_rwlock_t pool_lock;
	ALLOCATOR_PROPERTIES granted;   /* what SetProperties granted; under @lock */
	ALLOCATOR_PROPERTIES in_effect; /* what samples are cut by; under @pool_lock */
	atomic_bool committed;          /* this object's view: Commit / Decommit succeeded */
	atomic_uint frames_out;         /* frames this object acquired and has not released */
	pthread_mutex_t notify_lock;
	IMemAllocatorNotifyCallbackTemp *notify; /* SetNotify's, one reference; under notify_lock */
};

static inline struct ks_allocator *ks_allocator_from_iface(IKsAllocatorEx *iface)
{
	return container_of(iface, struct ks_allocator, iface);
}

static inline struct ks_allocator *ks_allocator_from_mem_iface(IMemAllocatorCallbackTemp *iface)
{
	return container_of(iface, struct ks_allocator, mem_iface);
}

/*
 * A new object with one reference: its own client, and the pool @name, opened when @framing
 * is NULL, else created as @opts says (may be NULL); its locks made, nothing held. The
 * interfaces' tables and state are left for ks-allocator.c and ks_mem_allocator_init() to
 * fill. Returns 0 with *@ret_allocator set, or a negative errno, having undone its steps.
 */
int ks_allocator_new(const char *name, const struct ksalloc_framing *framing,
		     const struct ksalloc_pool_options *opts, struct ks_allocator **ret_allocator);

/*
 * As ks_allocator_new(), for a consumer of stream @name: its own client, attached to the stream
 * as @opts says (may be NULL), and the stream's pool. Returns 0 or a negative errno of
 * ksalloc_client_open() / ksalloc_stream_open(), having undone its steps.
 */
int ks_allocator_new_consumer(const char *name, const struct ksalloc_stream_open_options *opts,
			      struct ks_allocator **ret_allocator);

/*
 * The IUnknown that both interfaces share. The last unref (no sample is out then: each
 * holds a reference) drops the SetNotify reference, destroys the locks, closes the stream,
 * the pool and the client, and frees the object.
 */
ULONG ks_allocator_ref(struct ks_allocator *a);
ULONG ks_allocator_unref(struct ks_allocator *a);
HRESULT ks_allocator_query_interface(struct ks_allocator *a, REFIID riid, void **ppvObject);

/*
 * Takes and gives back frames of the object's pool, for GetBuffer / ReleaseBuffer and for
 * KsAllocateFrame() / KsFreeFrame() alike, keeping the count of frames this object holds and
 * keeping the pool's mapping from changing under an acquire. Same returns as
 * ksalloc_pool_acquire() / ksalloc_pool_release(). @ret_in_effect may be NULL; otherwise it
 * receives the properties the frame is to be cut by. Any thread; the acquire holds
 * a->pool_lock shared, the release takes no lock (ks-memallocator.c says why).
 * A consumer's frames come from its stream: its acquire fails with -EBUSY, and its release
 * is ksalloc_stream_release() (same returns).
 */
int ks_allocator_acquire(struct ks_allocator *a, uint32_t timeout_ms,
			 struct ksalloc_frame *ret_frame, ALLOCATOR_PROPERTIES *ret_in_effect);
int ks_allocator_release(struct ks_allocator *a, const struct ksalloc_frame *frame);

/*
 * A producer's publish, a consumer's receive: ksalloc_stream_publish() (the frame leaves this
 * object's count when it reached the stream, whoever got it) and ksalloc_stream_receive() (the
 * frame joins it, taken as an acquire is, with a->pool_lock shared). Same returns; -EBUSY when
 * the object is no such end of a stream.
 */
int ks_allocator_publish(struct ks_allocator *a, const struct ksalloc_frame *frame,
			 const struct ksalloc_frame_meta *meta, uint32_t timeout_ms);
int ks_allocator_receive(struct ks_allocator *a, uint32_t timeout_ms,
			 struct ksalloc_frame *ret_frame, struct ksalloc_frame_meta *ret_meta);

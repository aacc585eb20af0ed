/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * A backend provides the memory of a pool; the pool code (pool.c) lays it
 * out, maps it and seals it. One const ops table per backend, one file each
 * (backend-<name>.c), as the kernel's dma-heap providers do:
 *
 *   memfd           shared memory (the default)
 *   hugetlb         shared memory in 2 MiB huge pages (MFD_HUGETLB)
 *   udmabuf         shared memory whose frames are also dma-bufs (/dev/udmabuf)
 *   dmaheap:<heap>  one dma-buf per frame from /dev/dma_heap/<heap>
 *
 * Every pool has a sealed memfd for its control block (shm/layout.h); where
 * its frames live is the backend's layout_flags. "device" names no backend of
 * its own: it is the first hardware backend this machine has (what the KS
 * memory type DEVICE_UNKNOWN asks for).
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define BACKEND_NAME_MAX 32 /* "dmaheap:" and a heap name, with the NUL */
#define BACKEND_DEVICE "device"

/*
 * How the memory of a frame lies in physical memory: what a device without an
 * IOMMU or scatter-gather cares about. Values of the wire's
 * BackendInfo.contiguity and of enum ksalloc_contiguity.
 */
enum backend_contiguity {
	BACKEND_CONTIGUITY_UNKNOWN = 0,    /* the kernel does not say */
	BACKEND_CONTIGUITY_PAGES = 1,      /* pages anywhere */
	BACKEND_CONTIGUITY_HUGE_PAGES = 2, /* runs of 2 MiB huge pages */
	BACKEND_CONTIGUITY_WHOLE = 3,      /* each frame one physically contiguous run (CMA) */
};

/* What a device importing a backend's frames may care about, where the kernel tells it. */
struct backend_limits {
	enum backend_contiguity contiguity;
	uint64_t max_frame_size; /* bytes one frame may have; 0: the kernel states no limit */
	const char *max_frame_size_source; /* where the kernel states it, for messages */
};

/* Why a backend cannot do what was asked: one line for a person. */
struct backend_error {
	char message[256];
};

struct backend_ops {
	const char *name;
	const char *description;
	bool takes_heap;       /* named "<name>:<heap>" */
	unsigned memfd_flags;  /* MFD_* for the pool's memfd, beyond CLOEXEC and sealing */
	uint32_t layout_flags; /* SHM_LAYOUT_* of its pools */
	/*
	 * Whether this machine has it (for @heap). Returns 0, or -errno with
	 * @err saying what is missing. NULL: it has it if device_open() works,
	 * or always, without a device.
	 */
	int (*probe)(const char *heap, struct backend_error *err);
	/*
	 * Backends whose frames are dma-bufs (SHM_LAYOUT_DMABUF_FRAMES): opens
	 * the device that makes them. Returns a CLOEXEC fd, or -errno with @err.
	 */
	int (*device_open)(const char *heap, struct backend_error *err);
	/*
	 * Makes one frame's dma-buf with @device: @size bytes at @offset of the
	 * sealed @memfd (udmabuf), or new memory of @size bytes (a heap).
	 * Returns a CLOEXEC fd, or -errno with @err.
	 */
	int (*frame_export)(int device, int memfd, uint64_t offset, uint64_t size,
			    struct backend_error *err);
	/* How its frames lie in memory, unless limits() says more. */
	enum backend_contiguity contiguity;
	/* Fills @ret as the kernel tells it today (for @heap); NULL: contiguity alone. */
	void (*limits)(const char *heap, struct backend_limits *ret);
};

/* A backend as a pool uses it: the ops, and the heap for dmaheap. */
struct backend {
	const struct backend_ops *ops;
	char name[BACKEND_NAME_MAX]; /* "memfd", "dmaheap:system" */
};

/* The heap of "dmaheap:<heap>", or NULL. (Not a field: backends are copied by value.) */
static inline const char *backend_heap(const struct backend *b)
{
	return b->ops->takes_heap ? b->name + strlen(b->ops->name) + 1 : NULL;
}

extern const struct backend_ops backend_memfd;
extern const struct backend_ops backend_hugetlb;
extern const struct backend_ops backend_udmabuf;
extern const struct backend_ops backend_dmaheap;

/*
 * Parses a backend's name ("memfd", "dmaheap:system"; not "device"). Returns
 * 0 and *ret, or -EINVAL with @err naming what is wrong. Says nothing about
 * whether this machine has it (backend_probe()).
 */
int backend_parse(const char *name, struct backend *ret, struct backend_error *err);

/*
 * Whether this machine has @b: 0, or -errno with @err saying what is missing
 * (backend_check(): "/dev/udmabuf: No such file or directory"; backend_probe()
 * names the backend first, "udmabuf: /dev/udmabuf: ...", for messages that
 * do not).
 */
int backend_check(const struct backend *b, struct backend_error *err);
int backend_probe(const struct backend *b, struct backend_error *err);

/*
 * As backend_parse(), and resolves "device" to the first hardware backend
 * this machine has (dmaheap:system, then udmabuf). Returns -ENODEV with @err
 * saying why each is missing when there is none.
 */
int backend_resolve(const char *name, struct backend *ret, struct backend_error *err);

/* What a device importing @b's frames may care about (backend_ops.limits). */
void backend_limits(const struct backend *b, struct backend_limits *ret);

/* Reads the number in file @path (sysfs, procfs). Returns it (>= 0) or -errno. */
long backend_read_count(const char *path);

/* Whether the frames of @b's pools are dma-bufs. */
bool backend_has_dmabuf_frames(const struct backend *b);

/*
 * Every backend worth listing on this machine: memfd, hugetlb, udmabuf,
 * dmaheap:system and each other heap in /dev/dma_heap. Fills at most @max
 * entries of @out and returns how many there are.
 */
size_t backend_list(struct backend *out, size_t max);

/* The names of the backends, for messages: "memfd, hugetlb, udmabuf, dmaheap:<heap>". */
const char *backend_names(void);

/* Formats @err's message; returns @r (a negative errno), for "return backend_fail(...)". */
int backend_fail(struct backend_error *err, int r, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

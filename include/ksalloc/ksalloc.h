/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef KSALLOC_KSALLOC_H
#define KSALLOC_KSALLOC_H

/*
 * libksalloc's native API: talk to ksallocd, the daemon that owns frame pools
 * in shared memory. <ksalloc/ksproxy.h> is the Windows-shaped layer on top.
 *
 * Conventions, as in systemd's libraries:
 * - Functions that can fail return 0 (or a count) on success and a negative
 *   errno on failure. ret_* out-parameters are written only on success.
 * - The library never logs and never raises SIGPIPE. After a failure,
 *   ksalloc_client_error() describes it in one line for a person.
 * - Destructors accept NULL and return NULL.
 * - A client may be shared by threads: its calls are serialized. Each call
 *   sends one request and waits for its reply, at most the client's timeout.
 *
 * Frames are acquired and released in shared memory, without a request to
 * the daemon: see ksalloc_pool_acquire().
 *
 * When the daemon goes away (killed, crashed or stopped, without systemd's
 * file descriptor store keeping its connections), the library notices within
 * about a second, without a system call on the frame path while the daemon
 * lives: the daemon writes a heartbeat into each pool every 250 ms, and
 * acquire and release look at the connection only when it is older than
 * 500 ms. Then, per call:
 *   ksalloc_pool_acquire()  -ESHUTDOWN (KS VFW_E_NOT_COMMITTED), and a thread
 *                           waiting in it wakes with -ESHUTDOWN, until the
 *                           library has reopened the pool from a new daemon;
 *                           it tries that itself, from acquire, within the
 *                           reconnect spacing above, and then acquires from
 *                           the new pool.
 *   ksalloc_pool_release()  -ESTALE (KS E_HANDLE) for a frame of the pool the
 *                           dead daemon served: nothing to give back.
 *   calls to the daemon     -EPIPE from the call that finds it gone, then as
 *                           above (-ECONNREFUSED while none is running).
 * The memory of a frame held stays mapped and valid in the process until its
 * pool is closed, but no daemon serves it: other processes get other memory.
 * After a graceful stop (SIGTERM) the same holds from the moment the daemon
 * retires its pools: frames held stay valid memory, acquire returns
 * -ESHUTDOWN and release -ESTALE.
 *
 * Errors common to every call that talks to the daemon:
 *   -ECONNREFUSED  the daemon is not running (no socket, or nobody listening)
 *   -ETIME         the daemon did not answer within the timeout
 *   -EPIPE         the daemon went away during this call; the client stays
 *                  usable: its next call connects again (attempts spaced from
 *                  50 ms to 2 s) and reopens every pool it has open
 *   -EBADMSG       the daemon's reply could not be decoded
 *   -EUSERS        the daemon refused the connection: too many sessions
 *   -EACCES        the pool's owner, group and mode do not allow it
 *   -ENOMEM        out of memory
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ksalloc/_ksalloc-common.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Where clients find the daemon when neither the options nor $KSALLOC_SOCKET say. */
#define KSALLOC_DEFAULT_SOCKET "/run/ksallocd/ksallocd.sock"
#define KSALLOC_DEFAULT_TIMEOUT_MS 5000u
#define KSALLOC_POOL_NAME_MAX 64    /* bytes, with the NUL */
#define KSALLOC_STREAM_NAME_MAX 64  /* bytes, with the NUL; names as pools' */
#define KSALLOC_INFINITE UINT32_MAX /* timeout_ms: wait for as long as it takes */
#define KSALLOC_BACKEND_NAME_MAX 32 /* bytes, with the NUL: "dmaheap:" and a heap name */
/* The largest frame alignment a pool honours: a page (a shared mapping is only page aligned). */
#define KSALLOC_FRAME_ALIGNMENT_MAX 4096u
/* The first hardware backend the daemon's machine has (dmaheap:system, then udmabuf). */
#define KSALLOC_BACKEND_DEVICE "device"

/*
 * What the CPU does with a frame between acquire and release. For frames
 * that are dma-bufs the library brackets that access with DMA_BUF_IOCTL_SYNC
 * in this direction, so caches agree with the device's view.
 */
#define KSALLOC_ACCESS_READ 0x1u
#define KSALLOC_ACCESS_WRITE 0x2u
#define KSALLOC_ACCESS_READ_WRITE 0x3u
/*
 * The CPU does not touch the frame: a device fills or reads it through its
 * dma-buf (a camera capturing into it), and no DMA_BUF_IOCTL_SYNC is made.
 * Alone, not with READ or WRITE. Since LIBKSALLOC_1.2.
 */
#define KSALLOC_ACCESS_DEVICE 0x4u

struct ksalloc_client;
struct ksalloc_pool;

struct ksalloc_client_options {
	/* Socket path; NULL: $KSALLOC_SOCKET, else KSALLOC_DEFAULT_SOCKET. */
	const char *socket_path;
	/* Shown by ksallocctl; NULL: the program's name. */
	const char *client_name;
	/* Longest wait for one reply, in ms; 0 is replaced by the default. */
	uint32_t timeout_ms;
};

/* KSALLOCATOR_FRAMING without its Reserved word. */
struct ksalloc_framing {
	uint32_t options_flags;  /* KSALLOCATOR_OPTIONF_* */
	uint32_t pool_type;      /* 0 NonPagedPool, 1 PagedPool */
	uint32_t frames;         /* frames in the pool */
	uint32_t frame_size;     /* bytes per frame */
	uint32_t file_alignment; /* alignment mask: alignment - 1 */
};

struct ksalloc_status {
	struct ksalloc_framing framing; /* as the pool was created */
	/* Frames handed out and not yet returned, when the daemon answered. */
	uint32_t allocated_frames;
};

struct ksalloc_pool_info {
	char name[KSALLOC_POOL_NAME_MAX];
	uint32_t pool_id;                       /* the daemon's id; never 0 */
	char backend[KSALLOC_BACKEND_NAME_MAX]; /* "memfd", "hugetlb", "udmabuf", "dmaheap:system" */
	uint64_t size_bytes; /* the pool's memfd (without frames that are dma-bufs of their own) */
	struct ksalloc_status status;
	bool committed;  /* frames may be acquired */
	bool persistent; /* stays when its last session closes */
	uint32_t owner;  /* uid */
	uint32_t group;  /* gid */
	uint32_t mode;   /* as a file's: r sees the pool, w opens it */
	bool locked;     /* its pages are locked in memory */
};

/* A frame acquired with ksalloc_pool_acquire(); pass it back unchanged to release it. */
struct ksalloc_frame {
	void *data;          /* the frame's memory: mapped, writable, shared */
	uint32_t size;       /* bytes: the pool's frame size */
	uint32_t index;      /* the frame's index in its pool */
	uint32_t generation; /* which acquisition of that frame this is */
	uint32_t pool_id;
	/*
	 * The frame's dma-buf, for handing to a device (V4L2, DRM, VA-API...), or
	 * -1 when the pool's frames are not dma-bufs. The pool owns it: dup() it
	 * to keep it beyond ksalloc_pool_close().
	 */
	int dmabuf_fd;
	uint32_t access; /* KSALLOC_ACCESS_*, as acquired */
};

/* A session holding frames of a pool. */
struct ksalloc_holder {
	uint32_t session_id;
	uint32_t pid;
	uint32_t uid;
	char name[64]; /* the client's name, from its hello */
	uint32_t frames_held;
	uint64_t oldest_hold_ms; /* age of its longest-held frame */
};

/* The extended status of a pool. */
struct ksalloc_pool_stats {
	struct ksalloc_status status;
	uint32_t free_frames;
	uint32_t peak_frames; /* highest allocated_frames since the pool was created */
	uint32_t waiters;     /* threads blocked in acquire */
	uint32_t sessions;    /* sessions that have the pool open */
	uint64_t acquisitions;
	uint64_t timeouts;  /* acquires that gave up */
	uint64_t reclaimed; /* frames taken back from sessions that closed holding them */
	/* When the daemon last took frames back (its CLOCK_MONOTONIC, ns), and how many. */
	uint64_t last_reclaim_ns;
	uint32_t last_reclaim_frames;
	bool committed;
	char backend[KSALLOC_BACKEND_NAME_MAX];
	size_t n_holders;
	struct ksalloc_holder *holders; /* malloc'ed: free() it */
};

struct ksalloc_session_info {
	uint32_t session_id;
	uint32_t pid;
	uint32_t uid;
	uint32_t gid;
	char name[64];
	uint32_t pools_open;
	uint32_t frames_held;
	uint64_t connected_ms; /* how long ago it connected */
};

/*
 * How the memory of a backend's frame lies in physical memory: what a device
 * without an IOMMU or scatter-gather DMA cares about.
 */
enum ksalloc_contiguity {
	KSALLOC_CONTIGUITY_UNKNOWN = 0,    /* the kernel does not say (a vendor's heap) */
	KSALLOC_CONTIGUITY_PAGES = 1,      /* pages from anywhere */
	KSALLOC_CONTIGUITY_HUGE_PAGES = 2, /* runs of 2 MiB huge pages */
	KSALLOC_CONTIGUITY_WHOLE = 3,      /* each frame one physically contiguous run (CMA) */
};

/* A backend of the daemon's machine, as ksallocctl backends shows it. */
struct ksalloc_backend_info {
	char name[KSALLOC_BACKEND_NAME_MAX]; /* what ksalloc_pool_options.backend takes */
	char description[96];
	bool available;     /* the daemon can make pools on it */
	bool dmabuf_frames; /* its frames are dma-bufs a device can import */
	char reason[256];   /* why not, when not available */
	/* Since LIBKSALLOC_1.2: what a device importing its frames cares about, as the kernel says. */
	enum ksalloc_contiguity contiguity;
	uint64_t max_frame_size; /* bytes the kernel lets one frame have; 0: it states no limit */
};

/* How ksalloc_pool_create_with() makes a pool. */
struct ksalloc_pool_options {
	/* NULL or "memfd": shared memory; "hugetlb", "udmabuf", "dmaheap:<heap>", or "device". */
	const char *backend;
	/* Lock the pool's pages in memory (as KS NonPagedPool): refused beyond the daemon's RLIMIT_MEMLOCK. */
	bool locked;
};

/* Requests of one type the daemon has answered since it started. */
struct ksalloc_request_count {
	char type[32]; /* "get_status", "open_pool", ...: the request's name in the protocol */
	uint64_t ok;
	uint64_t failed;
};

/* What the daemon has done since it started. */
struct ksalloc_daemon_stats {
	char version[32];
	uint64_t uptime_ms;
	uint32_t sessions;
	uint32_t pools;
	uint64_t undecodable; /* requests that could not be decoded */
	size_t n_requests;
	struct ksalloc_request_count *requests; /* malloc'ed: free() it */
};

/* Fills @opts with the defaults; call it before setting fields, so new fields get theirs. */
KSALLOC_EXPORT void ksalloc_client_options_init(struct ksalloc_client_options *opts);

/*
 * Connects to the daemon and says hello. @opts may be NULL for the defaults.
 * Returns 0 and *ret_client, or a negative errno (see above; also -EINVAL for
 * a socket path that does not fit in sockaddr_un). On failure *ret_client is
 * untouched; there is no client to ask for the error message, so
 * ksalloc_client_open_error() gives it, for the calling thread.
 */
KSALLOC_EXPORT int ksalloc_client_open(const struct ksalloc_client_options *opts,
				       struct ksalloc_client **ret_client);

/* The message of the calling thread's last failed ksalloc_client_open(). */
KSALLOC_EXPORT const char *ksalloc_client_open_error(void);

/*
 * Closes the connection. Pools opened through @client must be closed first.
 * Accepts NULL; returns NULL.
 */
KSALLOC_EXPORT struct ksalloc_client *ksalloc_client_close(struct ksalloc_client *client);

/*
 * One line describing the last failure of a call on @client (the daemon's own
 * words when it refused a request). Valid until the next call on @client.
 */
KSALLOC_EXPORT const char *ksalloc_client_error(const struct ksalloc_client *client);

/* The socket path the client connected to. */
KSALLOC_EXPORT const char *ksalloc_client_socket_path(const struct ksalloc_client *client);

/* The daemon's id of this session: what ksallocctl shows for its frames. */
KSALLOC_EXPORT uint32_t ksalloc_client_session_id(const struct ksalloc_client *client);

/*
 * The extended status of pool @name: counters and the sessions holding its
 * frames. On success the caller frees ret_stats->holders with free().
 * Returns 0, -ENOENT, -EINVAL (malformed name) or a negative errno.
 */
KSALLOC_EXPORT int ksalloc_client_pool_stats(struct ksalloc_client *client, const char *name,
					     struct ksalloc_pool_stats *ret_stats);

/*
 * Destroys pool @name (only its owner and root may): it takes no new opens
 * and goes as soon as none of its frames is held. Returns 1 when it is gone
 * already, 0 when it goes once its frames come back, or -ENOENT, -EACCES,
 * -EINVAL (malformed name) or a negative errno. A pool of the daemon's config
 * comes back on the daemon's next reload.
 */
KSALLOC_EXPORT int ksalloc_client_destroy_pool(struct ksalloc_client *client, const char *name);

/*
 * The daemon's sessions, oldest first. *ret_sessions is malloc'ed (NULL when
 * there are none): free() it. Returns 0 or a negative errno.
 */
KSALLOC_EXPORT int ksalloc_client_list_sessions(struct ksalloc_client *client,
						struct ksalloc_session_info **ret_sessions,
						size_t *ret_n_sessions);

/*
 * Lists the daemon's pools, in the daemon's order. On success *ret_pools is a
 * malloc'ed array of *ret_n_pools entries (NULL when there are none), which
 * the caller frees with free(). Returns 0 or a negative errno.
 */
KSALLOC_EXPORT int ksalloc_client_list_pools(struct ksalloc_client *client,
					     struct ksalloc_pool_info **ret_pools,
					     size_t *ret_n_pools);

/*
 * Status of the pool called @name, without opening it. Returns 0, -ENOENT
 * when there is no such pool, -EINVAL for a malformed name, or a negative errno.
 */
KSALLOC_EXPORT int ksalloc_client_pool_status(struct ksalloc_client *client, const char *name,
					      struct ksalloc_status *ret_status);

/*
 * Opens the pool called @name: the daemon hands over the pool's sealed memfd
 * and the library maps it. The pool borrows @client, which must outlive it.
 * Returns 0 and *ret_pool, -ENOENT (no such pool), -EINVAL (malformed name),
 * -EBADMSG (the pool's memory is not a valid ksalloc pool), or a negative errno.
 */
KSALLOC_EXPORT int ksalloc_pool_open(struct ksalloc_client *client, const char *name,
				     struct ksalloc_pool **ret_pool);

/*
 * Creates a pool of @framing called @name and opens it (as ksalloc_pool_open()).
 * An existing pool of the same framing is opened; another framing fails with
 * -EEXIST. Created pools go when their last session closes, unless the
 * daemon's config keeps them. Returns 0, -EINVAL (a framing rule is broken:
 * ksalloc_client_error() says which), -EEXIST, or a negative errno.
 */
KSALLOC_EXPORT int ksalloc_pool_create(struct ksalloc_client *client, const char *name,
				       const struct ksalloc_framing *framing,
				       struct ksalloc_pool **ret_pool);

/*
 * As ksalloc_pool_create(), on the backend and with the locking @opts ask for
 * (NULL: shared memory, not locked). An existing pool is opened only if it is
 * on that backend (-EEXIST otherwise). Also returns -ENODEV when the daemon's
 * machine lacks the backend (ksalloc_client_error() says what is missing),
 * -EDQUOT when locking would pass the daemon's RLIMIT_MEMLOCK, -ENOMEM when
 * there are not enough huge pages.
 */
KSALLOC_EXPORT int ksalloc_pool_create_with(struct ksalloc_client *client, const char *name,
					    const struct ksalloc_framing *framing,
					    const struct ksalloc_pool_options *opts,
					    struct ksalloc_pool **ret_pool);

/*
 * The backends of the daemon's machine, each with whether the daemon can use
 * it and why not, and how its frames lie in memory and how large they may be
 * where the kernel says. *ret_backends is malloc'ed: free() it. Returns 0 or
 * a negative errno.
 */
KSALLOC_EXPORT int ksalloc_client_list_backends(struct ksalloc_client *client,
						struct ksalloc_backend_info **ret_backends,
						size_t *ret_n_backends);

/*
 * The daemon's version, uptime, sessions, pools and requests by type and
 * result. On success the caller frees ret_stats->requests with free().
 * Returns 0 or a negative errno.
 */
KSALLOC_EXPORT int ksalloc_client_daemon_stats(struct ksalloc_client *client,
					       struct ksalloc_daemon_stats *ret_stats);

/*
 * Unmaps and forgets the pool. Frames still held stay held until the client
 * closes (the daemon then takes them back). Accepts NULL; returns NULL.
 */
KSALLOC_EXPORT struct ksalloc_pool *ksalloc_pool_close(struct ksalloc_pool *pool);

/*
 * Takes a free frame, in shared memory: no request to the daemon, and no
 * system call unless the pool is empty and the call waits. Waiters are
 * served in the order they started waiting: a release hands its frame to
 * the longest-waiting session directly.
 *
 * @timeout_ms: 0 does not wait; KSALLOC_INFINITE waits for as long as it takes.
 * Returns 0 and *ret_frame, -ETIMEDOUT, -ESHUTDOWN when the pool is
 * decommitted or destroyed or its daemon is gone (also for a waiter when that
 * happens while it waits: see the top of this header), or -EDQUOT when the session holds as many frames as the daemon's
 * max_frames_per_session allows (the daemon closes a session that takes
 * more behind the library's back). Any thread may call it.
 */
KSALLOC_EXPORT int ksalloc_pool_acquire(struct ksalloc_pool *pool, uint32_t timeout_ms,
					struct ksalloc_frame *ret_frame);

/*
 * As ksalloc_pool_acquire(), for @access (KSALLOC_ACCESS_*): where the frame
 * is a dma-buf, the CPU's access to it starts here (DMA_BUF_IOCTL_SYNC_START
 * in that direction) and ends in ksalloc_pool_release() (SYNC_END): one
 * system call each, which shared-memory frames do not make.
 * ksalloc_pool_acquire() asks for KSALLOC_ACCESS_READ_WRITE;
 * KSALLOC_ACCESS_DEVICE makes neither call. Also returns -EINVAL for an
 * @access that is none of those.
 */
KSALLOC_EXPORT int ksalloc_pool_acquire_access(struct ksalloc_pool *pool, uint32_t timeout_ms,
					       uint32_t access, struct ksalloc_frame *ret_frame);

/*
 * Gives back @frame. Returns 0, or -EINVAL (not a frame of this pool),
 * -ESTALE (an old handle: the frame was released and acquired again since,
 * or its pool is gone with the daemon that served it, or was destroyed when
 * the daemon stopped; the memory stays valid until the pool is closed),
 * -EALREADY (the frame is free: released twice), -EPERM (another session
 * holds it). Any thread may call it.
 */
KSALLOC_EXPORT int ksalloc_pool_release(struct ksalloc_pool *pool,
					const struct ksalloc_frame *frame);

/*
 * Wakes this handle's waiting acquires and keeps it from waiting: while
 * @flushing is true, ksalloc_pool_acquire() on @pool returns -ECANCELED where
 * it would wait (a free frame is still taken), and acquires waiting in it now,
 * in any thread, return -ECANCELED at once. Only this process's waiters on
 * this pool wake: the wake goes to its own session's futex word, never to
 * other processes'. Set false to wait again. What a framework's flush, stop
 * or shutdown from another thread needs (GstBufferPool's flush_start).
 * Returns 0.
 */
KSALLOC_EXPORT int ksalloc_pool_set_flushing(struct ksalloc_pool *pool, bool flushing);

/*
 * Where @frame's bytes live, for wrapping them in another framework's memory
 * without copying (GStreamer's GstFdMemory, a V4L2 or DRM import of the
 * memfd): *ret_fd is the pool's memfd, sealed against resizing, and
 * *ret_offset the frame's offset in it. The fd is the pool's, open until
 * ksalloc_pool_close(): dup() it to keep it. Opened read-only where the
 * pool's frames are (a stream consumer without the right to produce), so a
 * writable mapping of it fails. Returns 0, -EINVAL (not a frame of this
 * pool), or -ENODEV when the frames are in no memfd (dmaheap pools: use
 * frame->dmabuf_fd).
 */
KSALLOC_EXPORT int ksalloc_pool_get_memfd(struct ksalloc_pool *pool,
					  const struct ksalloc_frame *frame, int *ret_fd,
					  uint64_t *ret_offset);

/*
 * Commits or decommits the pool for every session that uses it. While
 * decommitted, acquire fails with -ESHUTDOWN and waiters are woken to fail
 * so; frames already held stay valid. Returns 0 or a negative errno.
 */
KSALLOC_EXPORT int ksalloc_pool_set_committed(struct ksalloc_pool *pool, bool committed);

/*
 * Gives a pool this client created a new framing, and maps its new memory.
 * Only while the pool is decommitted, with no frame held, and open in this
 * session alone. Returns 0, -EBUSY (committed, frames held, or open
 * elsewhere), -EACCES (a pool of the daemon's config), -EINVAL (a framing
 * rule is broken), or a negative errno; on failure the pool is unchanged.
 */
KSALLOC_EXPORT int ksalloc_pool_reshape(struct ksalloc_pool *pool,
					const struct ksalloc_framing *framing);

/* What the daemon said about the pool when it was opened (status as of then). */
KSALLOC_EXPORT const struct ksalloc_pool_info *
ksalloc_pool_get_info(const struct ksalloc_pool *pool);

/*
 * Asks the daemon for the pool's status now: one request, one reply.
 * Returns 0, -ENOENT when the pool no longer exists, or a negative errno.
 */
KSALLOC_EXPORT int ksalloc_pool_status(struct ksalloc_pool *pool,
				       struct ksalloc_status *ret_status);

/* The client a pool was opened through. */
KSALLOC_EXPORT struct ksalloc_client *ksalloc_pool_get_client(const struct ksalloc_pool *pool);

/* ---- subscriptions: events pushed by the daemon -------------------------------------------- */

struct ksalloc_subscription;

struct ksalloc_subscription_options {
	const char *pool;           /* NULL or "": every pool this user may see, later ones too */
	uint32_t interval_ms;       /* STATUS at most this often per pool; 0: 100, at least 10 */
	uint32_t hold_threshold_ms; /* HELD_TOO_LONG beyond this; 0: none */
};

enum ksalloc_event_kind {
	KSALLOC_EVENT_STATUS,        /* counters or holders changed (coalesced) */
	KSALLOC_EVENT_DRY,           /* the pool's last free frame was taken */
	KSALLOC_EVENT_HELD_TOO_LONG, /* a session has held a frame beyond the threshold */
	KSALLOC_EVENT_RECLAIMED,     /* frames taken back from a session that ended */
	KSALLOC_EVENT_GONE,          /* the pool was destroyed (or may no longer be seen) */
	/* Of the streams on the pool (since LIBKSALLOC_1.1): */
	KSALLOC_EVENT_STREAM_PRODUCER_GONE, /* a stream's producer closed or died */
	KSALLOC_EVENT_STREAM_CONSUMER_GONE, /* a stream's consumer closed or died */
	KSALLOC_EVENT_STREAM_DROPS,         /* frames were dropped for a lagging consumer */
};

struct ksalloc_event {
	enum ksalloc_event_kind kind;
	char pool[KSALLOC_POOL_NAME_MAX];
	uint64_t time_ms;      /* the daemon's CLOCK_MONOTONIC, ms */
	uint32_t frames_total; /* STATUS, DRY, HELD_TOO_LONG: the pool's frames */
	uint64_t size_bytes;   /* STATUS, DRY: the pool's memory */
	/* STATUS, DRY: the extended status; its holders are malloc'ed: ksalloc_event_clear(). */
	struct ksalloc_pool_stats stats;
	/* HELD_TOO_LONG: the session and how long; RECLAIMED: the session that ended. */
	struct ksalloc_holder holder;
	uint32_t frames; /* RECLAIMED, STREAM_CONSUMER_GONE: taken back; STREAM_DROPS: dropped */
	/*
	 * STREAM_*: the stream, on pool; holder is its producer or consumer. Appended in
	 * LIBKSALLOC_1.1: a program built against the struct without it is linked to a
	 * ksalloc_subscription_read() that writes only the fields before, and skips the STREAM_*
	 * events. Fields are only ever appended here.
	 */
	char stream[KSALLOC_STREAM_NAME_MAX];
};

/*
 * Subscribes to pool @opts->pool on a connection of its own (as @client_opts
 * say; NULL: the defaults): the daemon pushes events, which the application
 * reads with ksalloc_subscription_read() when the fd of
 * ksalloc_subscription_get_fd() is readable (poll, epoll, a libuv poll
 * handle). The daemon looks at subscribed pools every 20 ms: a pool that runs
 * dry for less than that may not be reported. The events of the streams on the
 * pool come too (those the user may read): STREAM_DROPS says what a lagging
 * consumer lost, at most every 100 ms. Returns 0 and *ret_subscription,
 * -ENOENT (no such pool to be seen), -EINVAL, or an error of
 * ksalloc_client_open(); ksalloc_client_open_error() describes a failure.
 */
KSALLOC_EXPORT int ksalloc_subscription_open(const struct ksalloc_client_options *client_opts,
					     const struct ksalloc_subscription_options *opts,
					     struct ksalloc_subscription **ret_subscription);

/* The fd to poll for POLLIN; owned by the subscription. */
KSALLOC_EXPORT int ksalloc_subscription_get_fd(const struct ksalloc_subscription *subscription);

/*
 * Reads the next event without waiting. Returns 0 and *ret_event (free its
 * holders with ksalloc_event_clear()), -EAGAIN when none is waiting, -EPIPE
 * when the daemon went away (subscribe again once it is back), or a negative
 * errno. A reader that falls behind misses STATUS events, never the others.
 * (Versioned: LIBKSALLOC_1.1 returns every event; the LIBKSALLOC_1 one that
 * programs built before streams are linked to fills the struct as it was and
 * skips the STREAM_* events.)
 */
KSALLOC_EXPORT int ksalloc_subscription_read(struct ksalloc_subscription *subscription,
					     struct ksalloc_event *ret_event);

/* Frees what ksalloc_subscription_read() allocated in @event. */
KSALLOC_EXPORT void ksalloc_event_clear(struct ksalloc_event *event);

/* One line describing the subscription's last failure. */
KSALLOC_EXPORT const char *
ksalloc_subscription_error(const struct ksalloc_subscription *subscription);

/* Closes the connection. Accepts NULL; returns NULL. */
KSALLOC_EXPORT struct ksalloc_subscription *
ksalloc_subscription_close(struct ksalloc_subscription *subscription);

/* ---- streams: frames that travel from a producer to consumers ------------------------------ */

/*
 * A stream is named, lives on one pool, has at most one producer at a time and
 * up to KSALLOC_STREAM_MAX_CONSUMERS consumers. The producer acquires a frame
 * from the pool, fills it and publishes it; every consumer receives that very
 * frame (zero-copy: the same memory, mapped in each process), in order, and
 * releases it; the frame goes back to the pool (or to the pool's longest
 * waiter) when the last consumer releases it.
 *
 * Publish, receive and release are operations on shared memory: no request
 * to the daemon and no system call, unless somebody sleeps (one FUTEX_WAKE per
 * sleep). The daemon creates streams, attaches consumers, checks access and
 * repairs after a crash: a dead consumer's queued and held frames are
 * released for it; a dead producer's frame in flight is delivered or back in
 * the pool, and its consumers drain what was published, then see the end.
 *
 * Rights: a stream has an owner, a group and a mode as a file has; r lets a
 * session consume, w lets it produce. A consumer without w maps the frames'
 * memory read-only. Both also need the right to open the stream's pool: a
 * consumer's release writes the pool's control block.
 */

/* KSALLOC_STREAM_NAME_MAX is above, with the pools' names. */
#define KSALLOC_STREAM_MAX_CONSUMERS 32u /* consumers one stream has at once */
#define KSALLOC_STREAM_DEPTH_MAX 64u     /* frames one consumer's queue holds */
#define KSALLOC_STREAM_FORMAT_MAX 4096u  /* bytes of a stream's format */

/* ksalloc_frame_meta.options_flags: KSSTREAM_HEADER_OPTIONSF_* of <ksalloc/ks.h>, same values. */
#define KSALLOC_FRAME_SPLICEPOINT 0x1u        /* a sync point: decodable on its own */
#define KSALLOC_FRAME_PREROLL 0x2u            /* not to be shown */
#define KSALLOC_FRAME_DATADISCONTINUITY 0x4u  /* frames were lost before this one */
#define KSALLOC_FRAME_TYPECHANGED 0x8u        /* the stream's format changed before this one */
#define KSALLOC_FRAME_TIMEVALID 0x10u         /* presentation_time is set */
#define KSALLOC_FRAME_TIMEDISCONTINUITY 0x40u /* a gap in time after this one */
#define KSALLOC_FRAME_DURATIONVALID 0x100u    /* duration is set */
#define KSALLOC_FRAME_ENDOFSTREAM 0x200u      /* the last frame of the stream */

/* What a frame carries beside its memory: KSSTREAM_HEADER's fields, and the stream's own. */
struct ksalloc_frame_meta {
	/*
	 * KSTIME: presentation_time * numerator / denominator is in 100-ns units
	 * (0/0 reads as 1/1). Valid with TIMEVALID; duration, in the same units,
	 * with DURATIONVALID.
	 */
	int64_t presentation_time;
	uint32_t time_numerator;
	uint32_t time_denominator;
	int64_t duration;
	uint32_t data_used;           /* bytes of the frame that hold data */
	uint32_t options_flags;       /* KSALLOC_FRAME_* (KSSTREAM_HEADER_OPTIONSF_*) */
	uint32_t type_specific_flags; /* KSSTREAM_HEADER.TypeSpecificFlags */
	uint32_t format_generation;   /* set by publish: which format the frame is in */
	uint64_t sequence;            /* set by publish: 1 for the stream's first frame, then +1 */
	uint64_t publish_ns;          /* set by publish: its CLOCK_MONOTONIC, ns */
};

/* What a consumer does when its queue is full and the producer publishes. */
enum ksalloc_stream_policy {
	KSALLOC_STREAM_BLOCK,       /* lossless: publish waits (up to its timeout) for room */
	KSALLOC_STREAM_DROP_NEWEST, /* the new frame skips this consumer */
	KSALLOC_STREAM_DROP_OLDEST, /* the oldest queued frame makes room */
	KSALLOC_STREAM_LATEST,      /* depth 1, the oldest goes: only the newest waits (previews) */
};

/* How ksalloc_stream_create() makes a stream; NULL: the defaults. */
struct ksalloc_stream_options {
	/* Mode of a stream this call creates (0: 0660); owner and group are the caller's. */
	uint32_t mode;
};

/* How ksalloc_stream_open() attaches a consumer; NULL: the defaults. */
struct ksalloc_stream_open_options {
	enum ksalloc_stream_policy policy; /* default KSALLOC_STREAM_BLOCK */
	uint32_t depth;    /* frames queued for it at most, 1..KSALLOC_STREAM_DEPTH_MAX; 0: 4 */
	uint32_t max_held; /* frames it may hold at once (receive -> -EDQUOT beyond); 0: 8 */
	bool read_only;    /* map the frames read-only even with the right to produce */
};

/* A consumer as ksallocctl streams shows it. */
struct ksalloc_stream_consumer_info {
	uint32_t slot; /* 0..KSALLOC_STREAM_MAX_CONSUMERS - 1 */
	uint32_t session_id;
	uint32_t pid;
	char name[64];
	enum ksalloc_stream_policy policy;
	uint32_t depth;
	uint32_t max_held;
	uint32_t queued; /* frames waiting for it */
	uint32_t held;   /* frames it holds */
	uint64_t delivered;
	uint64_t dropped;
	bool read_only;
	/* Publish -> receive latency, ns: upper bounds of the histogram's buckets (0: no data). */
	uint64_t latency_p50_ns;
	uint64_t latency_p99_ns;
};

enum ksalloc_stream_state {
	KSALLOC_STREAM_WAITING = 1,       /* no producer yet */
	KSALLOC_STREAM_FLOWING = 2,       /* a producer is attached */
	KSALLOC_STREAM_ENDED = 3,         /* its producer ended it; a new one may attach */
	KSALLOC_STREAM_PRODUCER_GONE = 4, /* its producer closed or died without ending it */
};

struct ksalloc_stream_info {
	char name[KSALLOC_STREAM_NAME_MAX];
	char pool[KSALLOC_POOL_NAME_MAX];
	uint32_t stream_id;
	enum ksalloc_stream_state state;
	bool persistent; /* declared in the daemon's config */
	uint32_t owner, group, mode;
	uint32_t producer_session; /* 0: none */
	uint32_t producer_pid;
	char producer_name[64];
	uint64_t published;
	uint32_t format_size;
	uint32_t n_consumers;
	struct ksalloc_stream_consumer_info consumers[KSALLOC_STREAM_MAX_CONSUMERS];
};

struct ksalloc_stream;

/*
 * Makes the caller the producer of stream @name on @pool: creates the stream,
 * or attaches to one that has no producer (declared in the config, or whose
 * producer ended or went). The stream borrows @pool, which must outlive it.
 * Returns 0 and *ret_stream, -EBUSY (it has a producer), -EXDEV (the stream
 * exists on another pool), -EACCES (no right to produce), -EINVAL (malformed
 * name), or a negative errno.
 */
KSALLOC_EXPORT int ksalloc_stream_create(struct ksalloc_pool *pool, const char *name,
					 const struct ksalloc_stream_options *opts,
					 struct ksalloc_stream **ret_stream);

/*
 * Attaches a consumer to stream @name (which must exist: a producer made it,
 * or the config declares it), mapping its pool. The stream borrows @client.
 * Frames published from then on are queued for it. Returns 0 and
 * *ret_stream, -ENOENT, -EUSERS (it has KSALLOC_STREAM_MAX_CONSUMERS
 * consumers), -EACCES (no right to consume), -EINVAL, or a negative errno.
 */
KSALLOC_EXPORT int ksalloc_stream_open(struct ksalloc_client *client, const char *name,
				       const struct ksalloc_stream_open_options *opts,
				       struct ksalloc_stream **ret_stream);

/*
 * Producer: publishes @frame, acquired from the stream's pool and filled, with
 * @meta (NULL: none; sequence, publish_ns and format_generation are set here,
 * TYPECHANGED where the format changed). On success the frame belongs to the
 * consumers it reached (0 reached: it is back in the pool); do not release it.
 * A full queue is handled as its consumer's policy says: a BLOCK consumer
 * makes this wait up to @timeout_ms (0, ms, KSALLOC_INFINITE). Returns the
 * number of consumers the frame reached, or -ETIMEDOUT (a BLOCK consumer had
 * no room in time: the frame is still the caller's, nobody got it), -EINVAL
 * (not a frame of the pool held by this producer, or data_used beyond the
 * frame), -EPERM (not the producer), -EPIPE (this producer ended the stream:
 * close it and create it again to go on), -ESHUTDOWN (the daemon dropped the
 * stream, or is gone).
 */
KSALLOC_EXPORT int ksalloc_stream_publish(struct ksalloc_stream *stream,
					  const struct ksalloc_frame *frame,
					  const struct ksalloc_frame_meta *meta,
					  uint32_t timeout_ms);

/*
 * Producer: sets the stream's format (up to KSALLOC_STREAM_FORMAT_MAX bytes,
 * e.g. GStreamer caps as a string): frames published from now on carry it,
 * and the first each consumer receives carries TYPECHANGED.
 */
KSALLOC_EXPORT int ksalloc_stream_set_format(struct ksalloc_stream *stream, const void *format,
					     size_t size);

/*
 * Copies the stream's current format into @buf (at most @size bytes) and
 * returns its whole size (so a call with a @size of 0 asks how big it is),
 * 0 when none was set, or -EBADMSG when the producer keeps it changing.
 */
KSALLOC_EXPORT int ksalloc_stream_get_format(struct ksalloc_stream *stream, void *buf, size_t size);

/*
 * As ksalloc_stream_get_format(), and *ret_generation: the generation of the
 * format copied, which the frames published in it carry in format_generation.
 * A consumer holding a frame of an older generation knows that the frame's
 * format was replaced before it could read it.
 */
KSALLOC_EXPORT int ksalloc_stream_get_format_generation(struct ksalloc_stream *stream, void *buf,
							size_t size, uint32_t *ret_generation);

/*
 * Producer: ends the stream. Consumers get what was published, then
 * -EPIPE from receive, once; then they wait for a new producer's frames.
 */
KSALLOC_EXPORT int ksalloc_stream_end(struct ksalloc_stream *stream);

/*
 * Consumer: takes the next frame queued for it, waiting up to @timeout_ms
 * (0: not at all, KSALLOC_INFINITE: no limit). The frame's memory is the
 * pool's, mapped in this process (read-only without the right to produce).
 * DATADISCONTINUITY marks the first frame after frames were dropped for it,
 * TYPECHANGED the first in a new format. Returns 0, -EAGAIN (nothing queued
 * and @timeout_ms 0), -ETIMEDOUT, -EDQUOT (it holds max_held frames: release
 * one first), -EPIPE (the producer ended the stream: reported once, after
 * every frame it published), -ECONNRESET (the producer closed or died without
 * ending it: reported once, after its last frame), -ESHUTDOWN (the stream was
 * dropped, or the daemon is gone). One thread receives from a stream at a
 * time; any thread may release.
 */
KSALLOC_EXPORT int ksalloc_stream_receive(struct ksalloc_stream *stream, uint32_t timeout_ms,
					  struct ksalloc_frame *ret_frame,
					  struct ksalloc_frame_meta *ret_meta);

/*
 * Consumer: gives back a received frame: the last consumer's release returns
 * it to the pool. Returns 0, -EINVAL (not a frame of this stream's pool),
 * -ESTALE (an old handle), -EALREADY (released twice).
 */
KSALLOC_EXPORT int ksalloc_stream_release(struct ksalloc_stream *stream,
					  const struct ksalloc_frame *frame);

/*
 * Consumer: an fd that polls readable (POLLIN) when a frame, or the end, is
 * waiting for receive: for epoll, libuv or GLib loops. Owned by the stream.
 * It stays readable until a receive finds nothing (-EAGAIN), so receive with
 * a timeout of 0 until then; it may read readable once more than there is.
 * A thread of the library keeps it (it sleeps while frames flow, and is
 * woken like a receive that waits: once per sleep).
 */
KSALLOC_EXPORT int ksalloc_stream_get_fd(struct ksalloc_stream *stream);

/*
 * As ksalloc_pool_set_flushing(), for this handle's waits: while @flushing,
 * ksalloc_stream_receive() and ksalloc_stream_publish() return -ECANCELED
 * where they would wait (for a frame, or for room at a BLOCK consumer), and
 * those waiting now wake to return it. Only this handle's waiter wakes (its
 * consumer's sleep word, or its producer's); queued frames stay queued.
 * Returns 0.
 */
KSALLOC_EXPORT int ksalloc_stream_set_flushing(struct ksalloc_stream *stream, bool flushing);

/* The pool the stream's frames come from (a consumer's is opened for it). */
KSALLOC_EXPORT struct ksalloc_pool *ksalloc_stream_get_pool(const struct ksalloc_stream *stream);

/*
 * Detaches: a producer's stream reads PRODUCER_GONE for its consumers unless
 * it was ended; a consumer's queued and held frames are released. Accepts
 * NULL; returns NULL.
 */
KSALLOC_EXPORT struct ksalloc_stream *ksalloc_stream_close(struct ksalloc_stream *stream);

/*
 * The daemon's streams this user may see, with their consumers.
 * *ret_streams is malloc'ed: free() it. Returns 0 or a negative errno.
 */
KSALLOC_EXPORT int ksalloc_client_list_streams(struct ksalloc_client *client,
					       struct ksalloc_stream_info **ret_streams,
					       size_t *ret_n_streams);

#ifdef __cplusplus
}
#endif

#endif

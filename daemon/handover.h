/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Handing the daemon over to the next one through the service manager's file
 * descriptor store, as systemd-journald does with its stream connections:
 * every pool's memfd (and each frame's dma-buf where frames are dma-bufs,
 * one per message), every client's connected socket and a state memfd
 * describing them (daemon/state.h) are kept in the store, kept current as
 * they change (a crash gives no chance to save), and taken back at start.
 * Clients stay connected through a restart, a crash restart or a watchdog
 * kill: their frames stay held, their waiters keep waiting.
 *
 * Order keeps the store and the state consistent whatever instant the daemon
 * dies at: a new fd is stored before the state names it, and the state
 * forgets a thing before its fd is removed. So the state never names a thing
 * the store lacks but for a removal the daemon died before sending, and what
 * the store has that the state does not name is dropped at start.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "daemon/fdstore.h"
#include "daemon/rpc/rpc.h"
#include "daemon/state.h"
#include "daemon/storage/storage.h"
#include "daemon/transport/server.h"

struct handover {
	bool enabled; /* a service manager to store in ($NOTIFY_SOCKET) */
	struct storage *storage;
	struct rpc *rpc;
	struct server *server;

	/* Passed at start, until taken or dropped. */
	struct fdstore_passed *passed;
	size_t n_passed;
	struct state restored; /* the newest valid image passed */
	bool have_restored;
	uint32_t state_seq_max; /* the highest state number passed */

	/* What is in the store, as keys (kind << 32 | id), sorted. */
	uint64_t *stored;
	int *stored_fds; /* the fd stored under each: a reshaped pool has a new memfd */
	size_t n_stored, cap_stored;
	/* Names to remove before anything is stored, and once the state file is stored. */
	uint64_t *drop_first, *drop_after_state;
	size_t n_drop_first, n_drop_after_state;

	struct state_file state;
	bool state_stored;
	uint8_t *image; /* the last payload written, to skip writing the same */
	size_t image_len;
	uint64_t synced_changes;
	bool dirty;       /* pools changed outside rpc (reload, housekeeping) */
	size_t store_max; /* $FDSTORE (systemd >= 254): how many fds the store keeps; 0: unknown */
	bool warned_full;
};

/*
 * Whether the environment says a service manager keeps a store for us:
 * $SYSTEMD_EXEC_PID is our pid (systemd >= 248 sets it for the process it
 * starts; inherited by anything else, it names another pid), and $FDSTORE
 * is above 0 (systemd 254 and later say how many fds it keeps) or, without
 * $FDSTORE, $INVOCATION_ID is set (every unit since 232; 252 sets no
 * $FDSTORE). $NOTIFY_SOCKET alone is not enough: a test
 * harness or a supervisor that reads notifications without keeping a store
 * would pin every client's socket in its unread queue, and no client would
 * ever see the daemon go. The caller checks $NOTIFY_SOCKET (notify_enabled()).
 */
bool handover_available(void);

/* Starts with nothing passed; @enabled: a manager keeps our store (handover_available()). */
void handover_init(struct handover *h, bool enabled);
void handover_deinit(struct handover *h);

/*
 * Sorts what the manager passed: *ret_listen_fd is the listening socket (-1
 * when there is none); the stored fds and the newest valid state image are
 * kept for the restore calls. Returns 0, or -errno when $LISTEN_FDS is broken.
 */
int handover_take_passed(struct handover *h, int *ret_listen_fd);

/*
 * Adopts every pool the state names whose memfd checks out, into @storage
 * (before any other pool exists: ids go on from the state's). Pools that do
 * not check out are dropped with a log line.
 */
void handover_restore_pools(struct handover *h, struct storage *storage, struct rpc *rpc);

/*
 * Serves again every connection the state names whose socket checks out,
 * with its session; finishes the pools (frames of sessions that did not come
 * back are taken back); drops everything else passed, with a log line.
 */
void handover_restore_sessions(struct handover *h, struct server *server);

/*
 * Brings the store and the state image up to date. Cheap when nothing
 * changed. Returns 0, or -EAGAIN when some message found the manager's queue
 * full: call it again a little later.
 */
int handover_sync(struct handover *h);

/* Pools changed outside a request (reload, housekeeping): the next sync looks. */
static inline void handover_touch(struct handover *h)
{
	h->dirty = true;
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The service manager's file descriptor store, as systemd keeps it for a
 * service with FileDescriptorStoreMax= (sd_pid_notify_with_fds(3),
 * sd_listen_fds_with_names(3)): the protocol only. What is stored and when
 * is daemon/handover.c's business.
 *
 * Names: every fd ksallocd stores is named "ksalloc-<kind>-<number>":
 * "ksalloc-pool-<pool id>" (a pool's memfd), "ksalloc-conn-<session id>" (a
 * client's connected socket), "ksalloc-state-<n>" (the memfd describing
 * them, daemon/state.h), and "ksalloc-pool-<pool id>-frame-<i>" (frame i's
 * dma-buf, for a pool whose frames are dma-bufs: one fd per message, since
 * systemd promises no order among the fds of one message). Names are valid FDNAME= values (printable ASCII, no
 * ':', far below 255 characters) and unique as long as ids are; systemd does
 * not promise unique names, so whatever comes back is checked fd by fd.
 *
 * Messages are sent without blocking (daemon/notify.h says why). A store or
 * remove that finds the manager's queue full fails with -EAGAIN and is the
 * caller's to send again.
 */

#include <stddef.h>
#include <stdint.h>

#define FDSTORE_NAME_MAX 40

enum fdstore_kind {
	FDSTORE_NONE,       /* not a name of ours */
	FDSTORE_POOL,       /* a pool's memfd, by pool id */
	FDSTORE_CONNECTION, /* a client's connected socket, by session id */
	FDSTORE_STATE,      /* the state memfd, by its sequence number */
	FDSTORE_FRAME,      /* a frame's dma-buf, by pool id and frame index */
	FDSTORE_STREAM,     /* a stream's memfd, by stream id */
	FDSTORE_KINDS,
};

/* Frame indices a name may carry: far beyond any pool (max_pool_frames), within a key's bits. */
#define FDSTORE_FRAME_MAX (1u << 27)

/* An fd the manager passed at start, with what its name says it is. */
struct fdstore_passed {
	int fd; /* -1 once taken */
	enum fdstore_kind kind;
	uint32_t id;
	uint32_t frame; /* FDSTORE_FRAME: the frame's index; else 0 */
	char name[FDSTORE_NAME_MAX];
};

/*
 * Writes the name of @kind @id into @buf (FDSTORE_NAME_MAX bytes); @frame is
 * the frame's index for FDSTORE_FRAME, ignored otherwise.
 */
void fdstore_name(enum fdstore_kind kind, uint32_t id, uint32_t frame, char *buf);

/*
 * What @name says, with its number in *ret_id (and a frame's index in
 * *ret_frame, 0 for the other kinds); FDSTORE_NONE when it is not ours.
 */
enum fdstore_kind fdstore_parse_name(const char *name, uint32_t *ret_id, uint32_t *ret_frame);

/*
 * Puts @fd in the store as @kind @id (@frame: as fdstore_name()) with
 * FDSTORE=1, FDNAME=; the caller keeps @fd. Returns 0, -EAGAIN (queue full:
 * send again later) or -errno.
 */
int fdstore_add(enum fdstore_kind kind, uint32_t id, uint32_t frame, int fd);

/* Removes every fd named as @kind @id @frame (FDSTOREREMOVE=1). Returns as fdstore_add(). */
int fdstore_remove(enum fdstore_kind kind, uint32_t id, uint32_t frame);

/*
 * Sorts what the manager passed (sd_listen_fds_with_names()): the first
 * listening AF_UNIX SOCK_SEQPACKET socket that is not named as ours is the
 * socket to serve (*ret_listen_fd, -1 when there is none); fds named as ours
 * go to *ret_passed (malloc'ed, *ret_n of them, each the caller's to close or
 * take); anything else is closed with a log line. Returns 0 or -errno (a
 * broken $LISTEN_FDS).
 */
int fdstore_take_passed(int *ret_listen_fd, struct fdstore_passed **ret_passed, size_t *ret_n);

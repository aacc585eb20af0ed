/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The wire: AF_UNIX SOCK_SEQPACKET, one protobuf message per datagram, file
 * descriptors attached with SCM_RIGHTS. This is the only file that calls
 * sendmsg() and recvmsg(); the daemon's transport and the client library both
 * go through it. Packing and unpacking are protobuf-c's (ksalloc.pb-c.h).
 */

#include <stddef.h>
#include <sys/types.h>

#include <protobuf-c/protobuf-c.h>

#include "proto/protocol.h"

/*
 * Packs @msg into @buf. Returns the packed length, or -EMSGSIZE when it would
 * not fit in @buf_size bytes (then @buf holds a part of it).
 */
ssize_t wire_pack(const ProtobufCMessage *msg, void *buf, size_t buf_size);

/*
 * Sends one datagram of @len bytes with @n_fds descriptors attached (0 to
 * WIRE_MAX_FDS). The fds stay owned by the caller: the kernel duplicates
 * them into the peer. Never raises SIGPIPE. Returns 0, or -errno: -EAGAIN
 * when a non-blocking socket is full (or a blocking one's SO_SNDTIMEO ran
 * out), -EPIPE or -ECONNRESET when the peer is gone.
 */
int wire_send(int fd, const void *buf, size_t len, const int *fds, size_t n_fds);

/*
 * Receives one datagram into @buf. Descriptors that arrive are CLOEXEC; up to
 * @max_fds are stored in @fds (the caller owns them afterwards, *ret_n_fds says
 * how many) and any beyond that are closed at once and counted in
 * *ret_n_dropped (may be NULL), so an unexpected fd never leaks.
 *
 * Returns the datagram's length (> 0); 0 when the peer hung up (Linux cannot
 * tell an empty SEQPACKET datagram from end of stream, so both mean hang-up);
 * -EMSGSIZE when the datagram was larger than @buf_size (it is consumed and
 * dropped, its fds closed); -EAGAIN when nothing is waiting (or SO_RCVTIMEO
 * ran out); other -errno from recvmsg().
 */
ssize_t wire_recv(int fd, void *buf, size_t buf_size, int *fds, size_t max_fds, size_t *ret_n_fds,
		  size_t *ret_n_dropped);

/* Closes @n fds; for error paths that must give back what they received. */
void wire_close_fds(const int *fds, size_t n);

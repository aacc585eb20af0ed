/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/*
 * Messages to the service manager (sd_notify(3)'s protocol), never blocking:
 * libsystemd's sd_notify() sends with a blocking sendmsg(), which sleeps for
 * good when the receiver stops reading and its queue (net.unix.max_dgram_qlen,
 * 10 by default) is full. The daemon must not stop for that: a message that
 * finds the queue full is dropped instead, which the protocol tolerates
 * (STATUS and WATCHDOG are sent again).
 */

/* Reads $NOTIFY_SOCKET; without it, notify() does nothing. Returns 0 or -errno. */
int notify_open(void);
void notify_close(void);

/* Sends @msg ("READY=1", "STATUS=...", newline-separated assignments). */
void notify(const char *msg);
void notifyf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Whether $NOTIFY_SOCKET named a service manager (notify_open() succeeded with one). */
bool notify_enabled(void);

/*
 * Sends @msg with @n_fds fds (SCM_RIGHTS; the caller keeps its own), never
 * blocking. Unlike notify(), a failure is returned: -EAGAIN when the
 * manager's queue is full (try again later), -errno otherwise, -ENOTCONN
 * without a manager.
 */
int notify_with_fds(const char *msg, const int *fds, size_t n_fds);

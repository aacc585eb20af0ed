/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "daemon/notify.h"

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static int notify_fd = -1;
static struct sockaddr_un notify_addr;
static socklen_t notify_len;

int notify_open(void)
{
	const char *path = getenv("NOTIFY_SOCKET");
	size_t len;

	if (!path || !path[0])
		return 0;
	len = strlen(path);
	if ((path[0] != '/' && path[0] != '@') || len >= sizeof(notify_addr.sun_path))
		return -EINVAL;
	notify_addr.sun_family = AF_UNIX;
	memcpy(notify_addr.sun_path, path, len);
	/* "@name" is a name in the abstract namespace: a leading NUL, no terminating one. */
	if (path[0] == '@')
		notify_addr.sun_path[0] = 0;
	notify_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len + (path[0] == '/'));
	notify_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (notify_fd < 0)
		return -errno;
	/* What the daemon starts is not the service manager's business. */
	unsetenv("NOTIFY_SOCKET");
	return 0;
}

void notify_close(void)
{
	if (notify_fd >= 0)
		close(notify_fd);
	notify_fd = -1;
}

void notify(const char *msg)
{
	if (notify_fd < 0)
		return;
	/* Full queue: dropped (see notify.h). */
	(void)sendto(notify_fd, msg, strlen(msg), MSG_DONTWAIT | MSG_NOSIGNAL,
		     (struct sockaddr *)&notify_addr, notify_len);
}

void notifyf(const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	notify(msg);
}

bool notify_enabled(void)
{
	return notify_fd >= 0;
}

int notify_with_fds(const char *msg, const int *fds, size_t n_fds)
{
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int) * 16)];
	} control = { 0 };
	struct iovec iov = { .iov_base = (void *)msg, .iov_len = strlen(msg) };
	struct msghdr mh = { .msg_name = &notify_addr,
			     .msg_namelen = notify_len,
			     .msg_iov = &iov,
			     .msg_iovlen = 1 };

	if (notify_fd < 0)
		return -ENOTCONN;
	if (n_fds > 16)
		return -E2BIG;
	if (n_fds) {
		struct cmsghdr *c;

		mh.msg_control = &control;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * n_fds);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * n_fds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * n_fds);
	}
	if (sendmsg(notify_fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
		return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	return 0;
}

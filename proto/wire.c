/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "proto/wire.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* A protobuf-c output buffer over fixed memory that notes, rather than makes, an overflow. */
struct fixed_buffer {
	ProtobufCBuffer base;
	uint8_t *data;
	size_t size, len;
	bool overflow;
};

static void fixed_append(ProtobufCBuffer *b, size_t len, const uint8_t *data)
{
	struct fixed_buffer *f = (struct fixed_buffer *)b;

	if (f->overflow || len > f->size - f->len) {
		f->overflow = true;
		return;
	}
	memcpy(f->data + f->len, data, len);
	f->len += len;
}

/*
 * One pass: packing through a buffer that refuses to overflow, instead of
 * protobuf_c_message_get_packed_size() and then protobuf_c_message_pack(),
 * which walk the message twice. This is on every request and reply.
 */
ssize_t wire_pack(const ProtobufCMessage *msg, void *buf, size_t buf_size)
{
	struct fixed_buffer f = {
		.base = { .append = fixed_append },
		.data = buf,
		.size = buf_size,
	};

	protobuf_c_message_pack_to_buffer(msg, &f.base);
	return f.overflow ? -EMSGSIZE : (ssize_t)f.len;
}

int wire_send(int fd, const void *buf, size_t len, const int *fds, size_t n_fds)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int) * WIRE_MAX_FDS)];
	} control;
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };

	if (n_fds > WIRE_MAX_FDS)
		return -EINVAL;
	if (n_fds > 0) {
		struct cmsghdr *cmsg;

		memset(&control, 0, CMSG_SPACE(sizeof(int) * n_fds));
		msg.msg_control = control.buf;
		msg.msg_controllen = CMSG_SPACE(sizeof(int) * n_fds);
		cmsg = CMSG_FIRSTHDR(&msg);
		cmsg->cmsg_level = SOL_SOCKET;
		cmsg->cmsg_type = SCM_RIGHTS;
		cmsg->cmsg_len = CMSG_LEN(sizeof(int) * n_fds);
		memcpy(CMSG_DATA(cmsg), fds, sizeof(int) * n_fds);
	}

	for (;;) {
		if (sendmsg(fd, &msg, MSG_NOSIGNAL) >= 0)
			return 0;
		if (errno != EINTR)
			return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	}
}

void wire_close_fds(const int *fds, size_t n)
{
	for (size_t i = 0; i < n; i++)
		close(fds[i]);
}

ssize_t wire_recv(int fd, void *buf, size_t buf_size, int *fds, size_t max_fds, size_t *ret_n_fds,
		  size_t *ret_n_dropped)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int) * WIRE_MAX_FDS)];
	} control;
	struct iovec iov = { .iov_base = buf, .iov_len = buf_size };
	struct msghdr msg = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = control.buf,
		.msg_controllen = sizeof(control.buf),
	};
	size_t n_fds = 0, n_dropped = 0;
	ssize_t n;

	do
		n = recvmsg(fd, &msg, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EWOULDBLOCK ? -EAGAIN : -errno;

	/* Take every fd first, whatever else is wrong with the datagram. */
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
		size_t count;
		int *in;

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		in = (int *)CMSG_DATA(c);
		for (size_t i = 0; i < count; i++) {
			int one;

			memcpy(&one, &in[i], sizeof(one));
			if (n_fds < max_fds && !(msg.msg_flags & MSG_TRUNC)) {
				fds[n_fds++] = one;
			} else {
				close(one);
				n_dropped++;
			}
		}
	}

	if (msg.msg_flags & MSG_TRUNC)
		n = -EMSGSIZE; /* its fds were all dropped above */
	if (ret_n_fds)
		*ret_n_fds = n_fds;
	if (ret_n_dropped)
		*ret_n_dropped = n_dropped;
	return n;
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "daemon/fdstore.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include "daemon/notify.h"
#include "daemon/util/log.h"

static const char *const kind_names[FDSTORE_KINDS] = {
	[FDSTORE_POOL] = "pool",
	[FDSTORE_CONNECTION] = "conn",
	[FDSTORE_STATE] = "state",
	[FDSTORE_STREAM] = "stream",
};

void fdstore_name(enum fdstore_kind kind, uint32_t id, uint32_t frame, char *buf)
{
	if (kind == FDSTORE_FRAME)
		snprintf(buf, FDSTORE_NAME_MAX, "ksalloc-pool-%" PRIu32 "-frame-%" PRIu32, id,
			 frame);
	else
		snprintf(buf, FDSTORE_NAME_MAX, "ksalloc-%s-%" PRIu32, kind_names[kind], id);
}

/*
 * Parses the number at @s, up to @end (a character that is not a digit, or
 * the end): digits only, no sign, no leading zero, within 32 bits, so that
 * each number has one spelling. Returns the character after it, or NULL.
 */
static const char *parse_number(const char *s, char end, uint32_t *ret)
{
	unsigned long long v = 0;
	const char *p = s;

	for (; *p >= '0' && *p <= '9' && p - s <= 10; p++)
		v = v * 10 + (unsigned)(*p - '0');
	if (p == s || *p != end || (s[0] == '0' && p - s > 1) || v > UINT32_MAX)
		return NULL;
	*ret = (uint32_t)v;
	return p;
}

enum fdstore_kind fdstore_parse_name(const char *name, uint32_t *ret_id, uint32_t *ret_frame)
{
	for (enum fdstore_kind k = FDSTORE_POOL; k < FDSTORE_KINDS; k++) {
		char prefix[24];
		uint32_t id, frame;
		const char *rest;
		size_t len;

		/* Frames have no prefix of their own: they are named after their pool. */
		if (!kind_names[k])
			continue;
		len = (size_t)snprintf(prefix, sizeof(prefix), "ksalloc-%s-", kind_names[k]);
		if (strncmp(name, prefix, len) != 0)
			continue;
		if ((rest = parse_number(name + len, '\0', &id))) {
			*ret_id = id;
			*ret_frame = 0;
			return k;
		}
		/* "ksalloc-pool-<id>-frame-<i>" */
		if (k != FDSTORE_POOL || !(rest = parse_number(name + len, '-', &id)) ||
		    strncmp(rest, "-frame-", 7) != 0 || !parse_number(rest + 7, '\0', &frame) ||
		    frame >= FDSTORE_FRAME_MAX)
			return FDSTORE_NONE;
		*ret_id = id;
		*ret_frame = frame;
		return FDSTORE_FRAME;
	}
	return FDSTORE_NONE;
}

int fdstore_add(enum fdstore_kind kind, uint32_t id, uint32_t frame, int fd)
{
	char name[FDSTORE_NAME_MAX], msg[64 + FDSTORE_NAME_MAX];

	fdstore_name(kind, id, frame, name);
	snprintf(msg, sizeof(msg), "FDSTORE=1\nFDNAME=%s", name);
	return notify_with_fds(msg, &fd, 1);
}

int fdstore_remove(enum fdstore_kind kind, uint32_t id, uint32_t frame)
{
	char name[FDSTORE_NAME_MAX], msg[64 + FDSTORE_NAME_MAX];

	fdstore_name(kind, id, frame, name);
	snprintf(msg, sizeof(msg), "FDSTOREREMOVE=1\nFDNAME=%s", name);
	return notify_with_fds(msg, NULL, 0);
}

static bool is_listening_seqpacket(int fd)
{
	int type = 0, listening = 0, domain = 0;
	socklen_t len = sizeof(int);

	if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) < 0)
		return false;
	len = sizeof(int);
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0)
		return false;
	len = sizeof(int);
	if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) < 0)
		return false;
	return domain == AF_UNIX && type == SOCK_SEQPACKET && listening;
}

int fdstore_take_passed(int *ret_listen_fd, struct fdstore_passed **ret_passed, size_t *ret_n)
{
	struct fdstore_passed *passed = NULL;
	char **names = NULL;
	int n, listen_fd = -1;
	size_t n_passed = 0;

	n = sd_listen_fds_with_names(1, &names);
	if (n < 0)
		return n;
	if (n > 0) {
		passed = calloc((size_t)n, sizeof(*passed));
		if (!passed) {
			for (int i = 0; i < n; i++)
				close(SD_LISTEN_FDS_START + i);
			n = -ENOMEM;
			goto out;
		}
	}
	for (int i = 0; i < n; i++) {
		int fd = SD_LISTEN_FDS_START + i;
		const char *name = names && names[i] ? names[i] : "unknown";
		struct fdstore_passed *p = &passed[n_passed];

		p->kind = fdstore_parse_name(name, &p->id, &p->frame);
		if (p->kind != FDSTORE_NONE) {
			p->fd = fd;
			snprintf(p->name, sizeof(p->name), "%s", name);
			n_passed++;
		} else if (listen_fd < 0 && is_listening_seqpacket(fd)) {
			listen_fd = fd;
		} else {
			log_warning("fd %d named \"%.64s\" from the service manager: %s; closed",
				    fd, name,
				    listen_fd >= 0 && is_listening_seqpacket(fd) ?
					    "a second listening socket (ksallocd serves one)" :
					    "not a listening socket and not a name of ksallocd's");
			close(fd);
		}
	}
	*ret_listen_fd = listen_fd;
	*ret_passed = passed;
	*ret_n = n_passed;
	passed = NULL;
	n = 0;
out:
	free(passed);
	if (names)
		for (char **p = names; *p; p++)
			free(*p);
	free(names);
	return n;
}

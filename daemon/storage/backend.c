/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "daemon/storage/backend.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/macro.h"
#include "common/utf8.h"
#include "shm/layout.h"

#define DMA_HEAP_DIR "/dev/dma_heap"

static const struct backend_ops *const backends[] = {
	&backend_memfd,
	&backend_hugetlb,
	&backend_udmabuf,
	&backend_dmaheap,
};

int backend_fail(struct backend_error *err, int r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
	return r;
}

/* Heap names become paths under /dev/dma_heap: one file name, nothing else. */
static const char *heap_problem(const char *heap)
{
	static const char allowed[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
				      "0123456789._-";

	if (heap[0] == '\0')
		return "the heap name is empty (dmaheap:<heap>, e.g. dmaheap:system)";
	if (heap[strspn(heap, allowed)] != '\0' || heap[0] == '.')
		return "a heap name may only contain A-Z a-z 0-9 . _ - and not start with '.'";
	return NULL;
}

/*
 * @name as a message may quote it: a client sent it, so as clean UTF-8 (common/utf8.h), and
 * cut between characters, with "...", when it is longer than a backend's name can be.
 */
static const char *quote(const char *name, char *buf, size_t size)
{
	size_t len = strlen(name);

	if (utf8_escape(buf, size - 3, name, len) < len)
		strcat(buf, "...");
	return buf;
}

int backend_parse(const char *name, struct backend *ret, struct backend_error *err)
{
	const char *colon = strchr(name, ':');
	size_t base_len = colon ? (size_t)(colon - name) : strlen(name);
	struct backend b = { 0 };
	char quoted[48];

	quote(name, quoted, sizeof(quoted));
	if (strlen(name) >= sizeof(b.name))
		return backend_fail(err, -EINVAL, "backend name \"%s\" is longer than %zu bytes",
				    quoted, sizeof(b.name) - 1);
	for (size_t i = 0; i < ELEMENTSOF(backends); i++) {
		const struct backend_ops *ops = backends[i];
		const char *problem;

		if (strlen(ops->name) != base_len || strncmp(ops->name, name, base_len) != 0)
			continue;
		if (ops->takes_heap && !colon)
			return backend_fail(err, -EINVAL,
					    "backend %s needs a heap: %s:<heap>, e.g. %s:system",
					    ops->name, ops->name, ops->name);
		if (!ops->takes_heap && colon)
			return backend_fail(err, -EINVAL, "backend %s takes no heap (\"%s\")",
					    ops->name, quoted);
		if (colon && (problem = heap_problem(colon + 1)))
			return backend_fail(err, -EINVAL, "backend \"%s\": %s", quoted, problem);
		b.ops = ops;
		snprintf(b.name, sizeof(b.name), "%s", name);
		*ret = b;
		return 0;
	}
	return backend_fail(err, -EINVAL, "unknown backend \"%s\" (known: %s)", quoted,
			    backend_names());
}

int backend_check(const struct backend *b, struct backend_error *err)
{
	int fd;

	if (b->ops->probe)
		return b->ops->probe(backend_heap(b), err);
	if (!b->ops->device_open)
		return 0;
	fd = b->ops->device_open(backend_heap(b), err);
	if (fd < 0)
		return fd;
	close(fd);
	return 0;
}

int backend_probe(const struct backend *b, struct backend_error *err)
{
	int r = backend_check(b, err);

	if (r < 0) {
		struct backend_error why = *err;

		return backend_fail(err, r, "%s: %s", b->name, why.message);
	}
	return 0;
}

int backend_resolve(const char *name, struct backend *ret, struct backend_error *err)
{
	static const char *const device_backends[] = { "dmaheap:system", "udmabuf" };
	char why[sizeof(err->message)] = "";
	size_t len = 0;

	if (strcmp(name, BACKEND_DEVICE) != 0)
		return backend_parse(name, ret, err);
	for (size_t i = 0; i < ELEMENTSOF(device_backends); i++) {
		struct backend b;

		if (backend_parse(device_backends[i], &b, err) < 0)
			return -EINVAL; /* cannot happen: the names above are valid */
		if (backend_probe(&b, err) == 0) {
			*ret = b;
			return 0;
		}
		len += (size_t)snprintf(why + len, len < sizeof(why) ? sizeof(why) - len : 0,
					"%s%s", i ? "; " : "", err->message);
		if (len >= sizeof(why))
			len = sizeof(why) - 1;
	}
	return backend_fail(err, -ENODEV, "no hardware backend on this machine (%s)", why);
}

void backend_limits(const struct backend *b, struct backend_limits *ret)
{
	*ret = (struct backend_limits){ .contiguity = b->ops->contiguity };
	if (b->ops->limits)
		b->ops->limits(backend_heap(b), ret);
}

long backend_read_count(const char *path)
{
	char buf[32];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return n < 0 ? -errno : -EIO;
	buf[n] = 0;
	return strtol(buf, NULL, 10);
}

bool backend_has_dmabuf_frames(const struct backend *b)
{
	return b->ops->layout_flags & SHM_LAYOUT_DMABUF_FRAMES;
}

static int heap_compare(const void *a, const void *b)
{
	return strcmp(((const struct backend *)a)->name, ((const struct backend *)b)->name);
}

size_t backend_list(struct backend *out, size_t max)
{
	struct backend_error err;
	size_t n = 0, first_heap;
	struct dirent *de;
	DIR *dir;

	for (size_t i = 0; i < ELEMENTSOF(backends); i++) {
		if (backends[i]->takes_heap)
			continue;
		if (n < max && backend_parse(backends[i]->name, &out[n], &err) < 0)
			continue;
		n++;
	}
	/* The system heap is listed even where there is none, to say why. */
	first_heap = n;
	if (n >= max || backend_parse("dmaheap:system", &out[n], &err) == 0)
		n++;
	dir = opendir(DMA_HEAP_DIR);
	while (dir && (de = readdir(dir))) {
		char name[BACKEND_NAME_MAX];

		if (de->d_name[0] == '.' || strcmp(de->d_name, "system") == 0 ||
		    (size_t)snprintf(name, sizeof(name), "dmaheap:%s", de->d_name) >= sizeof(name))
			continue;
		if (n < max && backend_parse(name, &out[n], &err) < 0)
			continue;
		n++;
	}
	if (dir)
		closedir(dir);
	if (n > first_heap + 1 && n <= max)
		qsort(out + first_heap + 1, n - first_heap - 1, sizeof(*out), heap_compare);
	return n;
}

const char *backend_names(void)
{
	return "memfd, hugetlb, udmabuf, dmaheap:<heap>";
}

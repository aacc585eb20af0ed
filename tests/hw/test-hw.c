/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The hardware suite: pools whose frames are dma-bufs (a DMA-BUF heap, and
 * udmabuf over a sealed memfd), with the real daemon, on a kernel that has
 * both. This machine kind's kernel has neither, so scripts/test-hw runs
 * this binary in qemu on a stock Debian kernel; where the devices are
 * missing it says so and exits 77 (skipped).
 */
#include <check.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/dma-buf.h>

#include <ksalloc/ksalloc.h>
#include <ksalloc/ksproxy.h>

#include "tests/lib/fake-manager.h"
#include "tests/lib/harness.h"
#include "tests/lib/harness-client.h"
#include "tests/lib/ksalloc-check.h"

#define HEAP "/dev/dma_heap/system"
#define UDMABUF "/dev/udmabuf"

static struct test_daemon daemon_;

/*
 * Every DMA_BUF_IOCTL_SYNC the library makes in this process, recorded by
 * interposing ioctl(): the library calls it through its PLT, so this one is
 * called, and passes each call on to the kernel unchanged.
 */
struct sync_call {
	int fd;
	uint64_t flags;
};
static struct sync_call syncs[16];
static unsigned n_syncs;

/* Default visibility: the build hides symbols, and this one must be seen by ld.so. */
__attribute__((visibility("default"))) int ioctl(int fd, unsigned long request, ...)
{
	va_list ap;
	void *arg;

	va_start(ap, request);
	arg = va_arg(ap, void *);
	va_end(ap);
	if (request == DMA_BUF_IOCTL_SYNC && n_syncs < sizeof(syncs) / sizeof(syncs[0]))
		syncs[n_syncs++] = (struct sync_call){ fd, ((struct dma_buf_sync *)arg)->flags };
	return (int)syscall(SYS_ioctl, fd, request, arg);
}

static struct ksalloc_client *client(void)
{
	struct ksalloc_client *c = NULL;

	ck_assert_msg(ksalloc_client_open(NULL, &c) == 0, "%s", ksalloc_client_open_error());
	return c;
}

static struct ksalloc_pool *create(struct ksalloc_client *c, const char *name, uint32_t frames,
				   uint32_t size, const char *backend)
{
	const struct ksalloc_framing f = { .pool_type = 1, .frames = frames, .frame_size = size };
	const struct ksalloc_pool_options o = { .backend = backend };
	struct ksalloc_pool *p = NULL;

	ck_assert_msg(ksalloc_pool_create_with(c, name, &f, &o, &p) == 0, "create %s on %s: %s",
		      name, backend, ksalloc_client_error(c));
	ck_assert_str_eq(ksalloc_pool_get_info(p)->backend, backend);
	return p;
}

static uint64_t dmabuf_size(int fd)
{
	off_t size = lseek(fd, 0, SEEK_END);

	ck_assert_int_ge(size, 0);
	return (uint64_t)size;
}

/* Child: opens pool @name, takes its one frame, and checks it holds @byte, seen both ways. */
static int read_back_in_child(const char *name, unsigned char byte)
{
	struct ksalloc_client *c;
	struct ksalloc_pool *p;
	struct ksalloc_frame f;
	const unsigned char *bytes, *other;

	if (ksalloc_client_open(NULL, &c) < 0 || ksalloc_pool_open(c, name, &p) < 0 ||
	    ksalloc_pool_acquire_access(p, 5000, KSALLOC_ACCESS_READ, &f) < 0)
		return 10;
	if (f.dmabuf_fd < 0)
		return 11;
	bytes = f.data;
	/* The dma-buf mapped on its own: the very same pages as the frame. */
	other = mmap(NULL, f.size, PROT_READ, MAP_SHARED, f.dmabuf_fd, 0);
	if (other == MAP_FAILED)
		return 12;
	for (uint32_t i = 0; i < f.size; i++)
		if (bytes[i] != byte || other[i] != byte)
			return 13;
	munmap((void *)other, f.size);
	return ksalloc_pool_release(p, &f) == 0 ? 0 : 14;
}

/* A frame written in this process is read back, zero-copy, in another one. */
static void frame_goes_to_a_second_process(const char *backend)
{
	struct ksalloc_client *c;
	struct ksalloc_pool *p;
	struct ksalloc_frame f;
	int status;
	pid_t child;

	test_daemon_up(&daemon_, "");
	c = client();
	/* Not a whole number of pages: the dma-buf still is. */
	p = create(c, "one", 1, 100000, backend);
	ck_assert_int_eq(ksalloc_pool_acquire_access(p, 0, KSALLOC_ACCESS_WRITE, &f), 0);
	ck_assert_int_ge(f.dmabuf_fd, 0);
	ck_assert_uint_eq(dmabuf_size(f.dmabuf_fd), 102400);
	memset(f.data, 0xa7, f.size);
	ck_assert_int_eq(ksalloc_pool_release(p, &f), 0);

	child = fork();
	if (child == 0)
		_exit(read_back_in_child("one", 0xa7));
	ck_assert_int_eq(waitpid(child, &status, 0), child);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child: status 0x%x", status);
	ksalloc_pool_close(p);
	ksalloc_client_close(c);
	test_daemon_down(&daemon_);
}

START_TEST(test_dmaheap_frame_is_read_back_in_another_process)
{
	frame_goes_to_a_second_process("dmaheap:system");
}
END_TEST

START_TEST(test_udmabuf_frame_is_read_back_in_another_process)
{
	frame_goes_to_a_second_process("udmabuf");
}
END_TEST

START_TEST(test_udmabuf_frame_is_the_shared_memory_and_the_dmabuf_at_once)
{
	struct ksalloc_client *c;
	struct ksalloc_pool *p;
	struct ksalloc_frame f[3];
	unsigned char *view;

	test_daemon_up(&daemon_, "");
	c = client();
	p = create(c, "cam", 3, 8192, "udmabuf");
	for (int i = 0; i < 3; i++) {
		ck_assert_int_eq(ksalloc_pool_acquire(p, 0, &f[i]), 0);
		memset(f[i].data, 0x10 + i, f[i].size);
	}
	/* Each frame's own dma-buf maps exactly its frame, not a neighbour's. */
	for (int i = 0; i < 3; i++) {
		view = mmap(NULL, 8192, PROT_READ, MAP_SHARED, f[i].dmabuf_fd, 0);
		ck_assert_ptr_ne(view, MAP_FAILED);
		ck_assert_uint_eq(view[0], 0x10 + i);
		ck_assert_uint_eq(view[8191], 0x10 + i);
		munmap(view, 8192);
		ck_assert_int_eq(ksalloc_pool_release(p, &f[i]), 0);
	}
	ksalloc_pool_close(p);
	ksalloc_client_close(c);
	test_daemon_down(&daemon_);
}
END_TEST

START_TEST(test_cpu_access_is_bracketed_with_dma_buf_sync)
{
	struct ksalloc_client *c;
	struct ksalloc_pool *p, *shm;
	struct ksalloc_stream *s;
	struct ksalloc_frame f;

	test_daemon_up(&daemon_, "[pool plain]\nframes = 2\nframe_size = 4K\n");
	c = client();
	p = create(c, "cam", 2, 4096, "dmaheap:system");

	n_syncs = 0;
	ck_assert_int_eq(ksalloc_pool_acquire(p, 0, &f), 0);
	ck_assert_uint_eq(n_syncs, 1);
	ck_assert_int_eq(syncs[0].fd, f.dmabuf_fd);
	ck_assert_uint_eq(syncs[0].flags, DMA_BUF_SYNC_START | DMA_BUF_SYNC_RW);
	ck_assert_int_eq(ksalloc_pool_release(p, &f), 0);
	ck_assert_uint_eq(n_syncs, 2);
	ck_assert_int_eq(syncs[1].fd, f.dmabuf_fd);
	ck_assert_uint_eq(syncs[1].flags, DMA_BUF_SYNC_END | DMA_BUF_SYNC_RW);

	/* The direction is the caller's. */
	n_syncs = 0;
	ck_assert_int_eq(ksalloc_pool_acquire_access(p, 0, KSALLOC_ACCESS_READ, &f), 0);
	ck_assert_int_eq(ksalloc_pool_release(p, &f), 0);
	ck_assert_uint_eq(n_syncs, 2);
	ck_assert_uint_eq(syncs[0].flags, DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ);
	ck_assert_uint_eq(syncs[1].flags, DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ);
	ck_assert_int_eq(ksalloc_pool_acquire_access(p, 0, 0, &f), -EINVAL);
	ck_assert_int_eq(ksalloc_pool_acquire_access(p, 0, 8, &f), -EINVAL);
	ck_assert_int_eq(
		ksalloc_pool_acquire_access(p, 0, KSALLOC_ACCESS_DEVICE | KSALLOC_ACCESS_READ, &f),
		-EINVAL);

	/* A frame only a device touches makes no call: not in acquire, release or publish. */
	n_syncs = 0;
	ck_assert_int_eq(ksalloc_pool_acquire_access(p, 0, KSALLOC_ACCESS_DEVICE, &f), 0);
	ck_assert_int_eq(ksalloc_pool_release(p, &f), 0);
	ck_assert_int_eq(ksalloc_stream_create(p, "cam", NULL, &s), 0);
	ck_assert_int_eq(ksalloc_pool_acquire_access(p, 0, KSALLOC_ACCESS_DEVICE, &f), 0);
	ck_assert_int_eq(ksalloc_stream_publish(s, &f, NULL, 0), 0);
	ck_assert_uint_eq(n_syncs, 0);
	ksalloc_stream_close(s);

	/* A release the library refuses ends no access (the frame is not ours). */
	n_syncs = 0;
	ck_assert_int_eq(ksalloc_pool_release(p, &f), -EALREADY);
	ck_assert_uint_eq(n_syncs, 0);

	/* Shared-memory frames make no system call at all. */
	ck_assert_int_eq(ksalloc_pool_open(c, "plain", &shm), 0);
	ck_assert_int_eq(ksalloc_pool_acquire(shm, 0, &f), 0);
	ck_assert_int_eq(f.dmabuf_fd, -1);
	ck_assert_int_eq(ksalloc_pool_release(shm, &f), 0);
	ck_assert_uint_eq(n_syncs, 0);
	ksalloc_pool_close(shm);
	ksalloc_pool_close(p);
	ksalloc_client_close(c);
	test_daemon_down(&daemon_);
}
END_TEST

START_TEST(test_dmabuf_frames_of_a_killed_holder_are_reclaimed)
{
	struct ksalloc_client *c;
	struct ksalloc_pool *p;
	struct ksalloc_pool_stats st;
	struct ksalloc_frame f[4];
	int status;
	pid_t child;

	test_daemon_up(&daemon_, "[pool cam]\nframes = 4\nframe_size = 64K\n"
				 "backend = dmaheap:system\n");
	c = client();
	ck_assert_int_eq(ksalloc_pool_open(c, "cam", &p), 0);
	child = test_spawn_holder("holder", "cam", 4);
	ck_assert_int_eq(ksalloc_pool_acquire(p, 0, &f[0]), -ETIMEDOUT);
	kill(child, SIGKILL);
	ck_assert_int_eq(waitpid(child, &status, 0), child);
	/* Waiting for each frame wakes as the daemon gives them back. */
	for (int i = 0; i < 4; i++)
		ck_assert_int_eq(ksalloc_pool_acquire(p, 10000, &f[i]), 0);
	ck_assert_msg(ksalloc_client_pool_stats(c, "cam", &st) == 0, "%s", ksalloc_client_error(c));
	ck_assert_uint_eq(st.reclaimed, 4);
	ck_assert_str_eq(st.backend, "dmaheap:system");
	free(st.holders);
	for (int i = 0; i < 4; i++)
		ck_assert_int_eq(ksalloc_pool_release(p, &f[i]), 0);
	ksalloc_pool_close(p);
	ksalloc_client_close(c);
	test_daemon_down(&daemon_);
}
END_TEST

START_TEST(test_frame_fds_come_in_batches_and_none_leaks)
{
	static const char *const backends[] = { "dmaheap:system", "udmabuf" };
	int mine, daemons;

	test_daemon_up(&daemon_, "");
	mine = test_count_fds();
	daemons = test_daemon_count_fds(&daemon_);
	for (size_t b = 0; b < 2; b++) {
		struct ksalloc_client *c = client();
		/* More frames than one message can carry fds (253). */
		struct ksalloc_pool *p = create(c, "many", 600, 4096, backends[b]);
		struct ksalloc_frame f;
		int seen[600] = { 0 };

		ck_assert_int_ge(test_daemon_count_fds(&daemon_), daemons + 600);
		ck_assert_int_ge(test_count_fds(), mine + 600);
		for (int i = 0; i < 600; i++) {
			ck_assert_int_eq(ksalloc_pool_acquire(p, 0, &f), 0);
			ck_assert_int_ge(f.dmabuf_fd, 0);
			ck_assert_int_eq(seen[f.index]++, 0);
			((unsigned char *)f.data)[0] = (unsigned char)f.index;
		}
		ck_assert_int_eq(ksalloc_pool_acquire(p, 0, &f), -ETIMEDOUT);
		ksalloc_pool_close(p);
		ksalloc_client_close(c);
		/* The pool was created by that session and went with it, dma-bufs and all. */
		c = client();
		{
			struct ksalloc_status st;

			ck_assert_int_eq(ksalloc_client_pool_status(c, "many", &st), -ENOENT);
		}
		ksalloc_client_close(c);
		/* Its session's socket goes as the daemon notices the hang-up: wait for that. */
		test_daemon_wait_fds(&daemon_, daemons);
		ck_assert_int_eq(test_count_fds(), mine);
	}
	test_daemon_down(&daemon_);
}
END_TEST

START_TEST(test_ks_device_memory_gives_frames_with_their_dmabuf)
{
	KSALLOCATOR_FRAMING_EX fx = { .CountItems = 1 };
	KSSTREAMALLOCATOR_STATUS status;
	IKsAllocatorEx *a = NULL;
	KSALLOC_FRAME frame;
	struct ksalloc_client *c;
	struct ksalloc_pool_stats st;

	test_daemon_up(&daemon_, "");
	fx.FramingItem[0].MemoryType = KSMEMORY_TYPE_DEVICE_UNKNOWN;
	fx.FramingItem[0].Frames = 3;
	fx.FramingItem[0].FramingRange.Range.MaxFrameSize = 65536;
	ck_assert_int_eq(KsCreateNamedAllocatorEx("dev", &fx, &a), S_OK);
	ck_assert(IsEqualGUID(&IKsAllocatorEx_KsGetProperties(a)->MemoryType,
			      &KSMEMORY_TYPE_DEVICE_UNKNOWN));
	ck_assert_int_eq(IKsAllocatorEx_KsGetProperties(a)->LogicalMemoryType,
			 KS_MemoryTypeDeviceSpecific);
	ck_assert_int_eq(KsAllocateFrame(a, 0, &frame), S_OK);
	ck_assert_int_ge(frame.DmaBufFd, 0);
	ck_assert_uint_eq(dmabuf_size(frame.DmaBufFd), 65536);
	memset(frame.Data, 1, frame.Size);
	ck_assert_int_eq(a->lpVtbl->KsGetAllocatorStatus(a, &status), S_OK);
	ck_assert_uint_eq(status.AllocatedFrames, 1);
	/* "device" is the system heap where there is one. */
	c = client();
	ck_assert_int_eq(ksalloc_client_pool_stats(c, "dev", &st), 0);
	ck_assert_str_eq(st.backend, "dmaheap:system");
	free(st.holders);
	ksalloc_client_close(c);
	ck_assert_int_eq(KsFreeFrame(a, &frame), S_OK);
	a->lpVtbl->Release(a);
	test_daemon_down(&daemon_);
}
END_TEST

START_TEST(test_ksallocctl_backends_shows_the_hardware_ones_available)
{
	char *argv[] = { (char *)test_binary("ksallocctl"), "backends", NULL };
	char *out = NULL;

	test_daemon_up(&daemon_, "");
	ck_assert_int_eq(test_run(argv, &out, NULL), 0);
	/* The limits a device cares about, as this kernel tells them (udmabuf's: 64 MiB). */
	ck_assert_msg(strstr(out, "dmaheap:system       yes       yes     pages      -         "),
		      "%s", out);
	ck_assert_msg(strstr(out, "udmabuf              yes       yes     pages      64 MiB    "),
		      "%s", out);
	ck_assert_msg(strstr(out, "hugetlb              yes       no      huge-pages -         "),
		      "%s", out);
	free(out);
	test_daemon_down(&daemon_);
}
END_TEST

/* A udmabuf frame beyond the kernel's size_limit_mb is refused, saying so. */
START_TEST(test_udmabuf_frame_beyond_the_kernels_limit_is_refused)
{
	const struct ksalloc_framing f = { .pool_type = 1,
					   .frames = 1,
					   .frame_size = (64u << 20) + 4096 };
	const struct ksalloc_pool_options o = { .backend = "udmabuf" };
	struct ksalloc_client *c = NULL;
	struct ksalloc_pool *p = NULL;

	test_daemon_up(&daemon_, "");
	ck_assert_int_eq(ksalloc_client_open(NULL, &c), 0);
	ck_assert_int_lt(ksalloc_pool_create_with(c, "big", &f, &o, &p), 0);
	ck_assert_msg(strstr(ksalloc_client_error(c),
			     "frames of 67112960 bytes: udmabuf makes dma-bufs of 64 MiB at most "
			     "(/sys/module/udmabuf/parameters/size_limit_mb)"),
		      "%s", ksalloc_client_error(c));
	ksalloc_client_close(c);
	test_daemon_down(&daemon_);
}
END_TEST

/* Checks that @len bytes at @data, and the same through dma-buf @fd mapped on its own, are @byte. */
static void assert_frame_holds(const void *data, int fd, size_t len, unsigned char byte)
{
	const unsigned char *bytes = data, *other;

	ck_assert_uint_ge(dmabuf_size(fd), len);
	other = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
	ck_assert_ptr_ne(other, MAP_FAILED);
	for (size_t i = 0; i < len; i++)
		ck_assert_msg(bytes[i] == byte && other[i] == byte,
			      "byte %zu: 0x%02x in the frame, 0x%02x in its dma-buf, not 0x%02x", i,
			      bytes[i], other[i], byte);
	munmap((void *)other, len);
}

/* A new client opens pool @name, takes its other frame, writes it and sees it in its dma-buf. */
static void assert_pool_serves(const char *name, unsigned char byte)
{
	struct ksalloc_client *c = client();
	struct ksalloc_pool *p = NULL;
	struct ksalloc_frame f;

	ck_assert_msg(ksalloc_pool_open(c, name, &p) == 0, "open %s: %s", name,
		      ksalloc_client_error(c));
	ck_assert_msg(ksalloc_pool_acquire_access(p, 5000, KSALLOC_ACCESS_WRITE, &f) == 0,
		      "acquire from %s: %s", name, ksalloc_client_error(c));
	ck_assert_int_ge(f.dmabuf_fd, 0);
	memset(f.data, byte, f.size);
	ck_assert_int_eq(ksalloc_pool_release(p, &f), 0);
	ck_assert_int_eq(ksalloc_pool_acquire_access(p, 5000, KSALLOC_ACCESS_READ, &f), 0);
	assert_frame_holds(f.data, f.dmabuf_fd, f.size, byte);
	ck_assert_int_eq(ksalloc_pool_release(p, &f), 0);
	ksalloc_pool_close(p);
	ksalloc_client_close(c);
}

static unsigned count_in(const char *haystack, const char *needle)
{
	unsigned n = 0;

	for (const char *at = haystack; (at = strstr(at, needle)); at++)
		n++;
	return n;
}

START_TEST(test_dmabuf_pools_survive_restarts_with_a_frame_held)
{
	static const char config[] = "[pool udma]\nframes = 2\nframe_size = 64K\n"
				     "backend = udmabuf\n\n"
				     "[pool heap]\nframes = 2\nframe_size = 64K\n"
				     "backend = dmaheap:system\n";
	static const char *const names[] = { "udma", "heap" };
	static const int signals[] = { SIGKILL, SIGTERM, SIGABRT };
	struct fake_manager m;
	struct ksalloc_client *c;
	struct ksalloc_pool *p[2];
	struct ksalloc_frame f[2];
	char *log;
	int r;

	r = fake_manager_start(&m, config);
	if (r < 0) {
		log = fake_manager_log(&m);
		ck_abort_msg("ksallocd under the fake manager did not start: %s\n%s", strerror(-r),
			     log);
	}
	c = client();
	for (int k = 0; k < 2; k++) {
		ck_assert_int_eq(ksalloc_pool_open(c, names[k], &p[k]), 0);
		ck_assert_int_eq(ksalloc_pool_acquire_access(p[k], 0, KSALLOC_ACCESS_WRITE, &f[k]),
				 0);
		ck_assert_int_ge(f[k].dmabuf_fd, 0);
		memset(f[k].data, 0x5a + k, f[k].size);
	}
	/* The pools and every frame's dma-buf are stored: 2 x (1 memfd + 2 frames). */
	ck_assert_int_eq(fake_manager_wait_store(&m, "ksalloc-pool-", 6, 30000), 0);
	for (size_t i = 0; i < sizeof(signals) / sizeof(signals[0]); i++) {
		struct ksalloc_status st;

		ck_assert_int_eq(fake_manager_kill(&m, signals[i]), 0);
		r = fake_manager_restart(&m);
		log = fake_manager_log(&m);
		ck_assert_msg(r == 0, "ksallocd did not come back after SIG%s: %s\n%s",
			      sigabbrev_np(signals[i]), strerror(-r), log);
		ck_assert_msg(count_in(log, "took over 2 of 2 pools") == i + 1,
			      "a pool was dropped after SIG%s:\n%s", sigabbrev_np(signals[i]), log);
		free(log);
		for (int k = 0; k < 2; k++) {
			/* Still held, by this client, in the same memory and the same dma-buf. */
			ck_assert_int_eq(ksalloc_pool_status(p[k], &st), 0);
			ck_assert_uint_eq(st.allocated_frames, 1);
			assert_frame_holds(f[k].data, f[k].dmabuf_fd, f[k].size, 0x5a + k);
			assert_pool_serves(names[k], 0x30 + (unsigned char)i);
		}
		ck_assert_int_eq(fake_manager_wait_store(&m, "ksalloc-pool-", 6, 30000), 0);
	}
	for (int k = 0; k < 2; k++) {
		ck_assert_int_eq(ksalloc_pool_release(p[k], &f[k]), 0);
		ksalloc_pool_close(p[k]);
	}
	ksalloc_client_close(c);
	ck_assert_int_eq(fake_manager_stop(&m), 0);
	fake_manager_free(&m);
}
END_TEST

START_TEST(test_a_dmabuf_pool_with_a_forged_frame_is_dropped)
{
	static const char config[] = "[pool udma]\nframes = 2\nframe_size = 64K\n"
				     "backend = udmabuf\n\n"
				     "[pool heap]\nframes = 2\nframe_size = 64K\n"
				     "backend = dmaheap:system\n";
	struct fake_manager m;
	struct ksalloc_client *c;
	struct ksalloc_pool *p;
	char name[64], *log;
	int r, memfd;

	r = fake_manager_start(&m, config);
	ck_assert_msg(r == 0, "ksallocd under the fake manager did not start: %s", strerror(-r));
	c = client();
	ck_assert_int_eq(ksalloc_pool_open(c, "udma", &p), 0);
	ck_assert_int_eq(fake_manager_wait_store(&m, "ksalloc-pool-", 6, 30000), 0);
	/* The newest under frame 1's name: a memfd of the right size, not a dma-buf. */
	snprintf(name, sizeof(name), "ksalloc-pool-%u-frame-1", ksalloc_pool_get_info(p)->pool_id);
	memfd = memfd_create("forged", MFD_CLOEXEC);
	ck_assert_int_ge(memfd, 0);
	ck_assert_int_eq(ftruncate(memfd, 65536), 0);
	ck_assert_int_eq(fake_manager_store_add(&m, name, memfd), 0);
	close(memfd);
	ksalloc_pool_close(p);
	ksalloc_client_close(c);

	ck_assert_int_eq(fake_manager_kill(&m, SIGKILL), 0);
	ck_assert_int_eq(fake_manager_restart(&m), 0);
	log = fake_manager_log(&m);
	ck_assert_msg(strstr(log, "a frame's fd is not a dma-buf") &&
			      strstr(log, "took over 1 of 2 pools"),
		      "%s", log);
	free(log);
	/* The other pool was taken over and serves; the one dropped is made again from the config. */
	assert_pool_serves("heap", 0x11);
	ck_assert_int_eq(fake_manager_stop(&m), 0);
	fake_manager_free(&m);
}
END_TEST

START_TEST(test_a_dmabuf_pool_that_goes_leaves_the_store_with_its_frames)
{
	static const char *const backends[] = { "udmabuf", "dmaheap:system" };
	struct fake_manager m;
	int r;

	r = fake_manager_start(&m, "");
	ck_assert_msg(r == 0, "ksallocd under the fake manager did not start: %s", strerror(-r));
	for (size_t i = 0; i < sizeof(backends) / sizeof(backends[0]); i++) {
		struct ksalloc_client *c = client();
		struct ksalloc_pool *p = create(c, "made", 3, 4096, backends[i]);

		/* Its memfd and its 3 frames' dma-bufs, each under a name of its own. */
		ck_assert_int_eq(fake_manager_wait_store(&m, "ksalloc-pool-", 4, 30000), 0);
		/* A client-created pool goes with its last session: out of the store, every fd. */
		ksalloc_pool_close(p);
		ksalloc_client_close(c);
		ck_assert_int_eq(fake_manager_wait_store(&m, "ksalloc-pool-", 0, 30000), 0);
	}
	ck_assert_int_eq(fake_manager_stop(&m), 0);
	fake_manager_free(&m);
}
END_TEST

static Suite *hw_suite(void)
{
	Suite *s = suite_create("hardware");
	TCase *tc;

	tc = tcase_create("dmabuf");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_dmaheap_frame_is_read_back_in_another_process);
	tcase_add_test(tc, test_udmabuf_frame_is_read_back_in_another_process);
	tcase_add_test(tc, test_udmabuf_frame_is_the_shared_memory_and_the_dmabuf_at_once);
	tcase_add_test(tc, test_cpu_access_is_bracketed_with_dma_buf_sync);
	tcase_add_test(tc, test_dmabuf_frames_of_a_killed_holder_are_reclaimed);
	tcase_add_test(tc, test_frame_fds_come_in_batches_and_none_leaks);
	tcase_add_test(tc, test_ks_device_memory_gives_frames_with_their_dmabuf);
	tcase_add_test(tc, test_ksallocctl_backends_shows_the_hardware_ones_available);
	tcase_add_test(tc, test_udmabuf_frame_beyond_the_kernels_limit_is_refused);
	tcase_add_test(tc, test_dmabuf_pools_survive_restarts_with_a_frame_held);
	tcase_add_test(tc, test_a_dmabuf_pool_with_a_forged_frame_is_dropped);
	tcase_add_test(tc, test_a_dmabuf_pool_that_goes_leaves_the_store_with_its_frames);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	if (access(HEAP, R_OK) < 0 || access(UDMABUF, R_OK | W_OK) < 0) {
		printf("test-hw: skipped: needs %s and %s (%s); scripts/test-hw runs it in qemu\n",
		       HEAP, UDMABUF, strerror(errno));
		return 77;
	}
	return ksalloc_check_run(hw_suite());
}

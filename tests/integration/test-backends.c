/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Backends on this machine, with the real daemon: what `ksallocctl backends`
 * says and why, the refusals when a backend is missing (a create, a config
 * pool, KS device memory), hugetlb pools in reserved huge pages, and pools
 * locked in memory within RLIMIT_MEMLOCK. Frames that are dma-bufs need a
 * kernel with DMA-BUF heaps and udmabuf: tests/hw/test-hw.c, in qemu.
 */
#include <check.h>
#include <dlfcn.h>
#include <errno.h>
#include <json-c/json.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <ksalloc/ksalloc.h>
#include <ksalloc/ksproxy.h>

#include "tests/lib/harness.h"
#include "tests/lib/ksalloc-check.h"

#define NR_HUGEPAGES "/proc/sys/vm/nr_hugepages"
#define HUGE_PAGE (2u << 20)
#ifdef KSALLOC_MLOCK_IS_NOOP
#define LOCKED_KB_MIN 0 /* AddressSanitizer's mlock() locks nothing */
#else
#define LOCKED_KB_MIN 20 /* a locked pool's control block and four frames of 4 KiB */
#endif

static struct test_daemon daemon_;
/* vm.nr_hugepages before the tests change it: put back after them, even if they fail. */
static long saved_huge_pages = -1;

static struct ksalloc_client *client(void)
{
	struct ksalloc_client *c = NULL;

	ck_assert_msg(ksalloc_client_open(NULL, &c) == 0, "%s", ksalloc_client_open_error());
	return c;
}

static bool exists(const char *path)
{
	return access(path, F_OK) == 0;
}

static long read_long(const char *path)
{
	FILE *f = fopen(path, "re");
	long n = -1;

	if (f) {
		if (fscanf(f, "%ld", &n) != 1)
			n = -1;
		fclose(f);
	}
	return n;
}

/* Sets vm.nr_hugepages; true when the kernel now has exactly @n. */
static bool set_huge_pages(long n)
{
	FILE *f = fopen(NR_HUGEPAGES, "we");

	if (!f)
		return false;
	fprintf(f, "%ld\n", n);
	if (fclose(f) != 0)
		return false;
	return read_long(NR_HUGEPAGES) == n;
}

/* `ksallocctl backends --json`, parsed: an array of one object per backend. */
static json_object *backends_json(void)
{
	char *argv[] = { (char *)test_binary("ksallocctl"), "--json", "backends", NULL };
	char *out = NULL, *err = NULL;
	json_object *all;

	ck_assert_msg(test_run(argv, &out, &err) == 0, "ksallocctl backends: %s", err);
	all = json_tokener_parse(out);
	ck_assert_ptr_nonnull(all);
	ck_assert(json_object_is_type(all, json_type_array));
	free(out);
	free(err);
	return all;
}

static json_object *backend_row(json_object *all, const char *name)
{
	for (size_t i = 0; i < json_object_array_length(all); i++) {
		json_object *o = json_object_array_get_idx(all, i), *n;

		if (json_object_object_get_ex(o, "name", &n) &&
		    strcmp(json_object_get_string(n), name) == 0)
			return o;
	}
	return NULL;
}

static void assert_row(json_object *all, const char *name, bool available, const char *reason)
{
	json_object *row = backend_row(all, name), *v;

	ck_assert_msg(row, "backend %s is not listed", name);
	ck_assert(json_object_object_get_ex(row, "available", &v));
	ck_assert_msg(json_object_get_boolean(v) == available, "%s: available is %d", name,
		      json_object_get_boolean(v));
	if (reason) {
		ck_assert(json_object_object_get_ex(row, "reason", &v));
		ck_assert_str_eq(json_object_get_string(v), reason);
	}
}

/* Row @name says its frames lie in memory as @contiguity, and of at most @max bytes (0: null). */
static void assert_limits(json_object *all, const char *name, const char *contiguity, uint64_t max)
{
	json_object *row = backend_row(all, name), *v;

	ck_assert_msg(row, "backend %s is not listed", name);
	ck_assert(json_object_object_get_ex(row, "contiguity", &v));
	ck_assert_str_eq(json_object_get_string(v), contiguity);
	ck_assert(json_object_object_get_ex(row, "max_frame_size", &v));
	if (max)
		ck_assert_uint_eq(json_object_get_uint64(v), max);
	else
		ck_assert_msg(json_object_is_type(v, json_type_null), "%s: max_frame_size %s", name,
			      json_object_get_string(v));
}

static int create(struct ksalloc_client *c, const char *name, uint32_t frames, uint32_t size,
		  const char *backend, bool locked, struct ksalloc_pool **ret_pool)
{
	const struct ksalloc_framing f = { .pool_type = 1, .frames = frames, .frame_size = size };
	const struct ksalloc_pool_options o = { .backend = backend, .locked = locked };

	return ksalloc_pool_create_with(c, name, &f, &o, ret_pool);
}

/* ---- discovery ---------------------------------------------------------------------------- */

static void save_huge_pages(void)
{
	saved_huge_pages = read_long(NR_HUGEPAGES);
}

static void restore_huge_pages(void)
{
	if (saved_huge_pages >= 0)
		set_huge_pages(saved_huge_pages);
}

START_TEST(test_backends_lists_each_and_says_why_one_is_missing)
{
	json_object *all;

	test_daemon_up(&daemon_, "");
	all = backends_json();
	assert_row(all, "memfd", true, NULL);
	assert_row(all, "dmaheap:system", exists("/dev/dma_heap/system"),
		   exists("/dev/dma_heap/system") ?
			   NULL :
			   "/dev/dma_heap/system: No such file or directory");
	assert_row(all, "udmabuf", exists("/dev/udmabuf"),
		   exists("/dev/udmabuf") ? NULL : "/dev/udmabuf: No such file or directory");
	/* Where frames lie, which a device cares about, as this kernel says (none: no limit). */
	assert_limits(all, "memfd", "pages", 0);
	assert_limits(all, "hugetlb", "huge-pages", 0);
	assert_limits(all, "dmaheap:system", "pages", 0);
	assert_limits(all, "udmabuf", "pages",
		      exists("/sys/module/udmabuf/parameters/size_limit_mb") ?
			      (uint64_t)read_long("/sys/module/udmabuf/parameters/size_limit_mb")
				      << 20 :
			      0);
	json_object_put(all);

	/* hugetlb follows the reserve, as the daemon sees it at the time of asking. */
	if (set_huge_pages(0)) {
		all = backends_json();
		assert_row(all, "hugetlb", false,
			   "no huge pages reserved: /proc/sys/vm/nr_hugepages is 0");
		json_object_put(all);
	}
	if (set_huge_pages(1)) {
		all = backends_json();
		assert_row(all, "hugetlb", true, NULL);
		json_object_put(all);
	}

	{
		char *argv[] = { (char *)test_binary("ksallocctl"), "backends", NULL };
		char *out = NULL;

		ck_assert_int_eq(test_run(argv, &out, NULL), 0);
		ck_assert_msg(strstr(out, "BACKEND              AVAILABLE DMA-BUF CONTIGUITY MAX "
					  "FRAME DESCRIPTION, OR WHY NOT\n"),
			      "%s", out);
		ck_assert_msg(strstr(out, "\nmemfd                yes       no      pages      -  "
					  "       shared memory (sealed memfd)\n"),
			      "%s", out);
		ck_assert_ptr_nonnull(strstr(out, "memfd"));
		ck_assert_ptr_nonnull(strstr(out, "dmaheap:system"));
		free(out);
	}
	test_daemon_down(&daemon_);
}
END_TEST

/*
 * A program built before struct ksalloc_backend_info grew (LIBKSALLOC_1) indexes
 * entries of the size it knew, up to the end of reason: it gets them.
 */
START_TEST(test_list_backends_of_the_first_release_keeps_its_entries)
{
	typedef int list_fn(struct ksalloc_client *, struct ksalloc_backend_info **, size_t *);
	const size_t size_1 = offsetof(struct ksalloc_backend_info, reason) +
			      sizeof(((struct ksalloc_backend_info *)0)->reason);
	list_fn *list_1 =
		(list_fn *)dlvsym(RTLD_DEFAULT, "ksalloc_client_list_backends", "LIBKSALLOC_1");
	struct ksalloc_backend_info *now = NULL, *then = NULL;
	struct ksalloc_client *c;
	size_t n_now, n_then;

	ck_assert_msg(list_1, "no ksalloc_client_list_backends@LIBKSALLOC_1: %s", dlerror());
	test_daemon_up(&daemon_, "");
	c = client();
	ck_assert_int_eq(ksalloc_client_list_backends(c, &now, &n_now), 0);
	ck_assert_int_eq(list_1(c, &then, &n_then), 0);
	ck_assert_uint_eq(n_then, n_now);
	ck_assert_uint_ge(n_now, 4);
	for (size_t i = 0; i < n_now; i++) {
		/* Bytes, not a struct: an old entry is not aligned as today's struct is. */
		const char *old = (const char *)then + i * size_1;

		ck_assert_str_eq(old + offsetof(struct ksalloc_backend_info, name), now[i].name);
		ck_assert_str_eq(old + offsetof(struct ksalloc_backend_info, reason),
				 now[i].reason);
		ck_assert_int_eq(old[offsetof(struct ksalloc_backend_info, available)],
				 now[i].available);
	}
	free(now);
	free(then);
	ksalloc_client_close(c);
	test_daemon_down(&daemon_);
}
END_TEST

/* ---- refusals ----------------------------------------------------------------------------- */

START_TEST(test_create_on_a_missing_backend_names_what_is_missing)
{
	struct ksalloc_client *c;
	struct ksalloc_pool *p = NULL;
	IKsAllocatorEx *a = (IKsAllocatorEx *)&a;
	KSALLOCATOR_FRAMING_EX fx = { .CountItems = 1 };

	if (exists("/dev/dma_heap/system") || exists("/dev/udmabuf")) {
		fprintf(stderr,
			"this kernel has hardware backends: their refusals are not tested\n");
		return;
	}
	test_daemon_up(&daemon_, "");
	c = client();
	ck_assert_int_eq(create(c, "cam", 4, 65536, "dmaheap:system", false, &p), -ENODEV);
	ck_assert_str_eq(ksalloc_client_error(c),
			 "create: cannot create pool cam: dmaheap:system: /dev/dma_heap/system: No "
			 "such file or directory");
	ck_assert_int_eq(create(c, "cam", 4, 65536, "udmabuf", false, &p), -ENODEV);
	ck_assert_str_eq(ksalloc_client_error(c),
			 "create: cannot create pool cam: udmabuf: /dev/udmabuf: No such file or "
			 "directory");
	ck_assert_int_eq(create(c, "cam", 4, 65536, KSALLOC_BACKEND_DEVICE, false, &p), -ENODEV);
	ck_assert_ptr_nonnull(
		strstr(ksalloc_client_error(c), "no hardware backend on this machine"));
	/* Names that are no backend at all are a different mistake. */
	ck_assert_int_eq(create(c, "cam", 4, 65536, "dmaheap:../../etc/passwd", false, &p),
			 -EINVAL);
	ck_assert_ptr_nonnull(strstr(ksalloc_client_error(c), "a heap name may only contain"));
	ck_assert_int_eq(create(c, "cam", 4, 65536, "gpu", false, &p), -EINVAL);
	ck_assert_ptr_nonnull(strstr(ksalloc_client_error(c), "unknown backend \"gpu\""));
	ck_assert_ptr_null(p);

	/* KS device memory: the same refusal, as an HRESULT. */
	fx.FramingItem[0].MemoryType = KSMEMORY_TYPE_DEVICE_UNKNOWN;
	fx.FramingItem[0].Frames = 4;
	fx.FramingItem[0].FramingRange.Range.MaxFrameSize = 65536;
	ck_assert_int_eq(KsCreateNamedAllocatorEx("cam", &fx, &a),
			 HRESULT_FROM_WIN32(ERROR_DEV_NOT_EXIST));
	ck_assert_ptr_null(a);
	ksalloc_client_close(c);
	test_daemon_down(&daemon_);
}
END_TEST

START_TEST(test_config_pool_on_a_missing_backend_stops_the_start_unless_optional)
{
	struct ksalloc_client *c;
	struct ksalloc_status st;
	char *log;

	if (exists("/dev/dma_heap/system")) {
		fprintf(stderr, "this kernel has a DMA-BUF system heap: nothing is missing\n");
		return;
	}
	ck_assert_int_eq(test_daemon_start(&daemon_, "[pool cam]\nframes = 4\nframe_size = 64K\n"
						     "backend = dmaheap:system\n"),
			 -ECHILD);
	log = test_daemon_log(&daemon_);
	ck_assert_msg(strstr(log, "[pool cam]: cannot create the pool on backend dmaheap:system: "
				  "dmaheap:system: /dev/dma_heap/system: No such file or directory "
				  "(mark it \"optional = yes\" to start without it)"),
		      "%s", log);
	free(log);
	ck_assert_int_ne(daemon_.exit_status, 0);
	test_daemon_kill(&daemon_);

	test_daemon_up(&daemon_, "[pool cam]\nframes = 4\nframe_size = 64K\n"
				 "backend = dmaheap:system\noptional = yes\n"
				 "[pool video]\nframes = 2\nframe_size = 4K\n");
	c = client();
	ck_assert_int_eq(ksalloc_client_pool_status(c, "cam", &st), -ENOENT);
	ck_assert_int_eq(ksalloc_client_pool_status(c, "video", &st), 0);
	log = test_daemon_log(&daemon_);
	ck_assert_msg(strstr(log, "[pool cam]: backend dmaheap:system is missing"), "%s", log);
	ck_assert_msg(strstr(log, "the pool is optional, so the daemon runs without it"), "%s",
		      log);
	free(log);
	ksalloc_client_close(c);
	test_daemon_down(&daemon_);
}
END_TEST

/* ---- hugetlb ------------------------------------------------------------------------------ */

/* The page size the kernel maps @addr of this process with, in kB, from /proc/self/smaps. */
static long kernel_page_kb(const void *addr)
{
	FILE *f = fopen("/proc/self/smaps", "re");
	char line[256];
	bool inside = false;
	long kb = -1;

	while (f && fgets(line, sizeof(line), f)) {
		unsigned long lo, hi;

		if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2 &&
		    strchr(line, '-') < strchr(line, ' '))
			inside = (uintptr_t)addr >= lo && (uintptr_t)addr < hi;
		else if (inside && sscanf(line, "KernelPageSize: %ld kB", &kb) == 1)
			break;
	}
	if (f)
		fclose(f);
	return kb;
}

START_TEST(test_hugetlb_pool_lives_in_huge_pages_and_says_when_there_are_too_few)
{
	struct ksalloc_client *c;
	struct ksalloc_pool *p = NULL, *q = NULL;
	struct ksalloc_frame f;
	int status;
	pid_t child;

	if (!set_huge_pages(0)) {
		fprintf(stderr, "cannot set %s (not root?): hugetlb is not tested\n", NR_HUGEPAGES);
		return;
	}
	test_daemon_up(&daemon_, "");
	c = client();
	ck_assert_int_eq(create(c, "huge", 3, 1 << 20, "hugetlb", false, &p), -ENODEV);
	ck_assert_str_eq(ksalloc_client_error(c),
			 "create: cannot create pool huge: hugetlb: no huge pages reserved: "
			 "/proc/sys/vm/nr_hugepages is 0");
	if (!set_huge_pages(2)) {
		fprintf(stderr, "cannot reserve 2 huge pages: the rest is not tested\n");
		goto out;
	}
	/* Three frames of 1 MiB and the control block: 4 MiB, two huge pages. */
	ck_assert_msg(create(c, "huge", 3, 1 << 20, "hugetlb", false, &p) == 0, "%s",
		      ksalloc_client_error(c));
	ck_assert_str_eq(ksalloc_pool_get_info(p)->backend, "hugetlb");
	ck_assert_uint_eq(ksalloc_pool_get_info(p)->size_bytes % HUGE_PAGE, 0);
	ck_assert_int_eq(ksalloc_pool_acquire(p, 0, &f), 0);
	ck_assert_int_eq(f.dmabuf_fd, -1);
	ck_assert_int_eq(kernel_page_kb(f.data), 2048);
	memset(f.data, 0x3c, f.size);
	ck_assert_int_eq(ksalloc_pool_release(p, &f), 0);

	/* Another process sees the same huge pages. */
	child = fork();
	if (child == 0) {
		struct ksalloc_client *cc;
		struct ksalloc_pool *cp;
		struct ksalloc_frame cf;
		bool same = true;

		if (ksalloc_client_open(NULL, &cc) < 0 || ksalloc_pool_open(cc, "huge", &cp) < 0)
			_exit(10);
		for (int i = 0; i < 3; i++) {
			if (ksalloc_pool_acquire(cp, 5000, &cf) < 0)
				_exit(11);
			if (cf.index == f.index)
				same = ((unsigned char *)cf.data)[cf.size - 1] == 0x3c;
		}
		_exit(same && kernel_page_kb(cf.data) == 2048 ? 0 : 12);
	}
	ck_assert_int_eq(waitpid(child, &status, 0), child);
	ck_assert_int_eq(WEXITSTATUS(status), 0);

	/* Both pages are the first pool's now. */
	ck_assert_int_eq(create(c, "huge2", 1, 4096, "hugetlb", false, &q), -ENOMEM);
	ck_assert_str_eq(
		ksalloc_client_error(c),
		"create: cannot create pool huge2: pool huge2 needs 1 huge pages of 2 MiB; "
		"0 of the 2 reserved are left (/proc/sys/vm/nr_hugepages)");
	ksalloc_pool_close(p);
out:
	ksalloc_client_close(c);
	test_daemon_down(&daemon_);
}
END_TEST

/* ---- locked pools ------------------------------------------------------------------------- */

/* VmLck of process @pid, in kB. */
static long locked_kb(pid_t pid)
{
	char path[64], line[128];
	long kb = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "re");
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "VmLck: %ld kB", &kb) == 1)
			break;
	if (f)
		fclose(f);
	return kb;
}

START_TEST(test_locked_pools_are_locked_and_refused_beyond_rlimit_memlock)
{
	struct rlimit rl;
	KSALLOCATOR_FRAMING nonpaged = { .PoolType = NonPagedPool,
					 .Frames = 8,
					 .FrameSize = 64 * 1024 };
	KSALLOCATOR_FRAMING paged = nonpaged;
	struct ksalloc_pool_info *pools;
	struct ksalloc_client *c;
	struct ksalloc_pool *p = NULL;
	IKsAllocatorEx *a = NULL;
	size_t n;
	char *log;

	/* The daemon inherits it: a budget of 256 KiB of locked memory. */
	ck_assert_int_eq(getrlimit(RLIMIT_MEMLOCK, &rl), 0);
	ck_assert_uint_ge(rl.rlim_max, 256 * 1024);
	rl.rlim_cur = 256 * 1024;
	ck_assert_int_eq(setrlimit(RLIMIT_MEMLOCK, &rl), 0);

	test_daemon_up(&daemon_, "[pool audio]\nframes = 4\nframe_size = 4K\nlock = yes\n");
	c = client();
	ck_assert_int_eq(ksalloc_client_list_pools(c, &pools, &n), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert(pools[0].locked);
	ck_assert_int_ge(locked_kb(daemon_.pid), LOCKED_KB_MIN);
	free(pools);

	/* KS NonPagedPool asks for locked pages: 512 KiB is beyond the budget. */
	ck_assert_int_eq(KsCreateNamedAllocator("big", &nonpaged, &a),
			 HRESULT_FROM_WIN32(ERROR_NOT_ENOUGH_QUOTA));
	ck_assert_ptr_null(a);
	ck_assert_int_eq(create(c, "big", 8, 64 * 1024, NULL, true, &p), -EDQUOT);
	ck_assert_msg(strstr(ksalloc_client_error(c), "cannot lock pool big in memory") &&
			      strstr(ksalloc_client_error(c), "RLIMIT_MEMLOCK allows 262144"),
		      "%s", ksalloc_client_error(c));
	/* PagedPool is not locked, so it fits. */
	paged.PoolType = PagedPool;
	ck_assert_int_eq(KsCreateNamedAllocator("big", &paged, &a), S_OK);
	a->lpVtbl->Release(a);
	ksalloc_client_close(c);
	test_daemon_down(&daemon_);

	/* A config pool beyond it stops the start, saying so. */
	ck_assert_int_eq(test_daemon_start(&daemon_, "[pool big]\nframes = 8\nframe_size = 64K\n"
						     "lock = yes\n"),
			 -ECHILD);
	log = test_daemon_log(&daemon_);
	ck_assert_msg(strstr(log,
			     "[pool big]: cannot create the pool on backend memfd: cannot lock "
			     "pool big in memory"),
		      "%s", log);
	free(log);
	ck_assert_int_ne(daemon_.exit_status, 0);
	test_daemon_kill(&daemon_);
}
END_TEST

/* ---- KS memory types ---------------------------------------------------------------------- */

/* Creates pool @name through KsCreateNamedAllocatorEx with @type; returns its HRESULT. */
static HRESULT create_ex(const char *name, const GUID *type, ULONG flags, ULONG items,
			 IKsAllocatorEx **ret)
{
	KSALLOCATOR_FRAMING_EX fx = { .CountItems = items };

	fx.FramingItem[0].MemoryType = *type;
	fx.FramingItem[0].Flags = flags;
	fx.FramingItem[0].Frames = 2;
	fx.FramingItem[0].FileAlignment = 63;
	fx.FramingItem[0].FramingRange.Range.MaxFrameSize = 4096;
	return KsCreateNamedAllocatorEx(name, &fx, ret);
}

static bool listed_locked(struct ksalloc_client *c, const char *name)
{
	struct ksalloc_pool_info *pools;
	bool locked = false, found = false;
	size_t n;

	ck_assert_int_eq(ksalloc_client_list_pools(c, &pools, &n), 0);
	for (size_t i = 0; i < n; i++) {
		if (strcmp(pools[i].name, name) == 0) {
			found = true;
			locked = pools[i].locked;
			ck_assert_str_eq(pools[i].backend, "memfd");
			ck_assert_uint_eq(pools[i].status.framing.file_alignment, 63);
		}
	}
	free(pools);
	ck_assert_msg(found, "pool %s is not listed", name);
	return locked;
}

START_TEST(test_ks_memory_types_pick_the_memory)
{
	IKsAllocatorEx *nonpaged = NULL, *paged = NULL, *system = NULL, *a = NULL;
	static const GUID unknown = { 0x12345678, 0x1234, 0x1234, { 1, 2, 3, 4, 5, 6, 7, 8 } };
	PALLOCATOR_PROPERTIES_EX props;
	struct ksalloc_client *c;

	test_daemon_up(&daemon_, "");
	c = client();
	ck_assert_int_eq(create_ex("nonpaged", &KSMEMORY_TYPE_KERNEL_NONPAGED, 0, 1, &nonpaged),
			 S_OK);
	ck_assert_int_eq(create_ex("paged", &KSMEMORY_TYPE_KERNEL_PAGED, 0, 1, &paged), S_OK);
	ck_assert_int_eq(create_ex("system", &KSMEMORY_TYPE_SYSTEM, 0, 1, &system), S_OK);
	ck_assert(listed_locked(c, "nonpaged"));
	ck_assert(!listed_locked(c, "paged"));
	ck_assert(!listed_locked(c, "system"));
	/* What the allocator says of itself follows the pool. */
	props = IKsAllocatorEx_KsGetProperties(nonpaged);
	ck_assert(IsEqualGUID(&props->MemoryType, &KSMEMORY_TYPE_KERNEL_NONPAGED));
	ck_assert_int_eq(props->LogicalMemoryType, KS_MemoryTypeKernelNonPaged);
	props = IKsAllocatorEx_KsGetProperties(paged);
	ck_assert(IsEqualGUID(&props->MemoryType, &KSMEMORY_TYPE_KERNEL_PAGED));
	ck_assert_int_eq(props->LogicalMemoryType, KS_MemoryTypeKernelPaged);

	/* One framing item, of a memory type this allocator knows. */
	ck_assert_int_eq(create_ex("odd", &unknown, 0, 1, &a), E_INVALIDARG);
	ck_assert_int_eq(create_ex("two", &KSMEMORY_TYPE_SYSTEM, 0, 2, &a), E_INVALIDARG);
	ck_assert_int_eq(KsCreateNamedAllocatorEx("none", NULL, &a), E_POINTER);
	ck_assert_ptr_null(a);
	/* The same name on another backend is another pool: refused. */
	ck_assert_int_eq(create_ex("paged", &KSMEMORY_TYPE_DEVICE_UNKNOWN, 0, 1, &a),
			 HRESULT_FROM_WIN32(ERROR_ALREADY_EXISTS));
	nonpaged->lpVtbl->Release(nonpaged);
	paged->lpVtbl->Release(paged);
	system->lpVtbl->Release(system);
	ksalloc_client_close(c);
	test_daemon_down(&daemon_);
}
END_TEST

static Suite *backends_suite(void)
{
	Suite *s = suite_create("backends");
	TCase *tc;

	tc = tcase_create("discovery");
	tcase_add_unchecked_fixture(tc, save_huge_pages, restore_huge_pages);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_backends_lists_each_and_says_why_one_is_missing);
	tcase_add_test(tc, test_list_backends_of_the_first_release_keeps_its_entries);
	suite_add_tcase(s, tc);

	tc = tcase_create("refusals");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_create_on_a_missing_backend_names_what_is_missing);
	tcase_add_test(tc, test_config_pool_on_a_missing_backend_stops_the_start_unless_optional);
	suite_add_tcase(s, tc);

	tc = tcase_create("ks");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_ks_memory_types_pick_the_memory);
	suite_add_tcase(s, tc);

	tc = tcase_create("memory");
	tcase_add_unchecked_fixture(tc, save_huge_pages, restore_huge_pages);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_hugetlb_pool_lives_in_huge_pages_and_says_when_there_are_too_few);
	tcase_add_test(tc, test_locked_pools_are_locked_and_refused_beyond_rlimit_memlock);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return ksalloc_check_run(backends_suite());
}

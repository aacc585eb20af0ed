/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "daemon/storage/pool.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#include <linux/magic.h>

#include "shm/liveness.h"

/* Memory, layout and mapping of one framing: what pool_reshape() swaps whole. */
struct pool_memory {
	struct shm_layout layout;
	uint32_t frames;
	int fd;
	void *map;
	int *frame_fds; /* NULL, or frames dma-bufs (-1 where not made yet) */
};

static void memory_release(struct pool_memory *m)
{
	if (m->map != MAP_FAILED)
		munmap(m->map, m->layout.size_bytes);
	if (m->fd >= 0)
		close(m->fd);
	for (uint32_t i = 0; m->frame_fds && i < m->frames; i++)
		if (m->frame_fds[i] >= 0)
			close(m->frame_fds[i]);
	free(m->frame_fds);
	m->map = MAP_FAILED;
	m->fd = -1;
	m->frame_fds = NULL;
}

/* Reads the number in file @name of the 2 MiB huge pages' sysfs folder, or -1. */
static long huge_pages(const char *name)
{
	char path[96];
	long n = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/kernel/mm/hugepages/hugepages-2048kB/%s", name);
	f = fopen(path, "re");
	if (f) {
		if (fscanf(f, "%ld", &n) != 1)
			n = -1;
		fclose(f);
	}
	return n;
}

/* Bytes this process has locked (VmLck of /proc/self/status), or 0 if it cannot tell. */
static uint64_t locked_bytes(void)
{
	FILE *f = fopen("/proc/self/status", "re");
	unsigned long long kib = 0;
	char line[128];

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "VmLck: %llu kB", &kib) == 1)
			break;
	if (f)
		fclose(f);
	return (uint64_t)kib * 1024;
}

/*
 * Locks @size bytes at @map in memory, within RLIMIT_MEMLOCK: the limit is
 * the daemon's budget for locked pools even where a capability would let it
 * lock more (root), so what a service may lock is what its unit says.
 */
static int memory_lock(const struct pool *p, void *map, uint64_t size, struct backend_error *err)
{
	struct rlimit rl;
	uint64_t used = locked_bytes();

	if (getrlimit(RLIMIT_MEMLOCK, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
	    (size > rl.rlim_cur || used > rl.rlim_cur - size))
		return backend_fail(
			err, -EDQUOT,
			"cannot lock pool %s in memory: it needs %llu bytes, %llu are "
			"locked already and RLIMIT_MEMLOCK allows %llu (LimitMEMLOCK= of "
			"ksallocd.service)",
			p->name, (unsigned long long)size, (unsigned long long)used,
			(unsigned long long)rl.rlim_cur);
	if (mlock(map, size) < 0)
		return backend_fail(err, -errno, "cannot lock pool %s in memory (%llu bytes): %s",
				    p->name, (unsigned long long)size, strerror(errno));
	return 0;
}

/* Exports every frame of @m as a dma-buf of its own (backend_has_dmabuf_frames()). */
static int memory_export_frames(const struct pool *p, struct pool_memory *m,
				struct backend_error *err)
{
	struct backend_limits limits;
	int device, r = 0;

	/* Said once for the pool: the kernel's refusal of each frame would not say why. */
	backend_limits(&p->backend, &limits);
	if (limits.max_frame_size && m->layout.frame_stride > limits.max_frame_size)
		return backend_fail(
			err, -E2BIG,
			"frames of %llu bytes: %s makes dma-bufs of %llu MiB at most (%s)",
			(unsigned long long)m->layout.frame_stride, p->backend.name,
			(unsigned long long)(limits.max_frame_size >> 20),
			limits.max_frame_size_source);
	m->frame_fds = malloc(m->frames * sizeof(*m->frame_fds));
	if (!m->frame_fds)
		return backend_fail(err, -ENOMEM, "out of memory");
	for (uint32_t i = 0; i < m->frames; i++)
		m->frame_fds[i] = -1;
	device = p->backend.ops->device_open(backend_heap(&p->backend), err);
	if (device < 0)
		return device;
	for (uint32_t i = 0; i < m->frames && r >= 0; i++) {
		r = p->backend.ops->frame_export(device, m->fd,
						 m->layout.data_offset + i * m->layout.frame_stride,
						 m->layout.frame_stride, err);
		if (r >= 0)
			m->frame_fds[i] = r;
		else if (r == -EMFILE || r == -ENFILE)
			backend_fail(err, r,
				     "frame %u of %u: out of file descriptors (the daemon's "
				     "LimitNOFILE=)",
				     i, m->frames);
	}
	close(device);
	return r < 0 ? r : 0;
}

static int memory_create(const struct pool *p, const struct framing *f, uint32_t n_slots,
			 bool locked, struct pool_memory *m, struct backend_error *err)
{
	const struct backend_ops *ops = p->backend.ops;
	char name[80];
	int r;

	*m = (struct pool_memory){ .frames = f->frames, .fd = -1, .map = MAP_FAILED };
	r = shm_layout_compute(f, n_slots, ops->layout_flags, POOL_MAX_SIZE_BYTES, &m->layout);
	if (r == 0 && shm_layout_frame_bytes(&m->layout, f->frames) > POOL_MAX_SIZE_BYTES)
		r = -EOVERFLOW;
	if (r < 0)
		return backend_fail(err, r, "pool %s is too large to map", p->name);
	/* Whatever is missing (a device, its permission, huge pages), the backend is not here. */
	if (backend_probe(&p->backend, err) < 0)
		return -ENODEV;

	/* The name shows in /proc/PID/fd and /proc/PID/maps: "memfd:ksalloc:video". */
	snprintf(name, sizeof(name), "ksalloc:%s", p->name);
	m->fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING | ops->memfd_flags);
	if (m->fd < 0 || ftruncate(m->fd, (off_t)m->layout.size_bytes) < 0) {
		r = backend_fail(err, -errno, "pool %s: cannot make its memfd of %llu bytes: %s",
				 p->name, (unsigned long long)m->layout.size_bytes,
				 strerror(errno));
		goto fail;
	}
	/* Huge pages are taken from the reserve here: this is where there may be too few. */
	m->map = mmap(NULL, m->layout.size_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, m->fd, 0);
	if (m->map == MAP_FAILED) {
		r = -errno;
		if ((ops->layout_flags & SHM_LAYOUT_HUGE_PAGES) && r == -ENOMEM)
			/* Free pages that mappings have not reserved yet are what is left. */
			backend_fail(
				err, r,
				"pool %s needs %llu huge pages of 2 MiB; %ld of the %ld "
				"reserved are left (/proc/sys/vm/nr_hugepages)",
				p->name,
				(unsigned long long)(m->layout.size_bytes / SHM_HUGE_PAGE_SIZE),
				huge_pages("free_hugepages") - huge_pages("resv_hugepages"),
				huge_pages("nr_hugepages"));
		else
			backend_fail(err, r, "pool %s: cannot map %llu bytes: %s", p->name,
				     (unsigned long long)m->layout.size_bytes, strerror(-r));
		goto fail;
	}
	if (locked && (r = memory_lock(p, m->map, m->layout.size_bytes, err)) < 0)
		goto fail;
	shm_header_write(m->map, &m->layout, p->id, p->name, f);
	/* Not F_SEAL_WRITE: clients write their frames through the mapping. */
	if (fcntl(m->fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) < 0) {
		r = backend_fail(err, -errno, "pool %s: cannot seal its memfd: %s", p->name,
				 strerror(errno));
		goto fail;
	}
	if (backend_has_dmabuf_frames(&p->backend) && (r = memory_export_frames(p, m, err)) < 0)
		goto fail;
	return 0;
fail:
	memory_release(m);
	return r;
}

static void memory_install(struct pool *p, const struct framing *f, struct pool_memory *m)
{
	p->framing = *f;
	p->layout = m->layout;
	p->fd = m->fd;
	p->map = m->map;
	p->frame_fds = m->frame_fds;
	frame_pool_init(&p->frames, p->map, &p->layout, f->frames);
}

/* Releases look for waiting sessions below slots_used only: keep it past every slot handed out. */
static void raise_slots_used(struct pool *p, uint32_t slot)
{
	if (atomic_load(&p->frames.shared->slots_used) <= slot)
		atomic_store(&p->frames.shared->slots_used, slot + 1);
}

int pool_new(uint32_t id, const struct pool_options *o, struct pool **ret_pool)
{
	struct backend_error scratch, *err = o->error ? o->error : &scratch;
	struct backend backend;
	struct pool_memory m;
	struct pool *p;
	int r;

	if (id == 0 || strlen(o->name) >= SHM_NAME_MAX || o->n_slots == 0)
		return backend_fail(err, -EINVAL, "bad pool options");
	r = backend_resolve(o->backend, &backend, err);
	if (r < 0)
		return r;
	p = calloc(1, sizeof(*p));
	if (!p)
		return backend_fail(err, -ENOMEM, "out of memory");
	p->id = id;
	strcpy(p->name, o->name);
	p->backend = backend;
	p->locked = o->locked;
	p->persistent = o->persistent;
	p->from_config = o->from_config;
	p->access = o->access;
	p->committed = true;
	p->fd = -1;
	p->map = MAP_FAILED;
	p->slot_sessions = calloc(o->n_slots, sizeof(*p->slot_sessions));
	if (!p->slot_sessions) {
		r = backend_fail(err, -ENOMEM, "out of memory");
		goto fail;
	}
	r = memory_create(p, &o->framing, o->n_slots, o->locked, &m, err);
	if (r < 0)
		goto fail;
	memory_install(p, &o->framing, &m);
	*ret_pool = p;
	return 0;
fail:
	pool_free(p);
	return r;
}

struct pool *pool_free(struct pool *p)
{
	struct pool_memory m;

	if (!p)
		return NULL;
	m = (struct pool_memory){ .layout = p->layout,
				  .frames = p->framing.frames,
				  .fd = p->fd,
				  .map = p->map,
				  .frame_fds = p->frame_fds };
	/* Clients still map it: tell their waiters, and their next acquire, it is gone. */
	if (p->map != MAP_FAILED)
		frame_set_state(&p->frames, SHM_STATE_DESTROYED);
	memory_release(&m);
	free(p->slot_sessions);
	free(p);
	return NULL;
}

int pool_attach(struct pool *p, uint32_t session, uint32_t *ret_slot)
{
	uint32_t free_slot = UINT32_MAX;

	for (uint32_t i = 0; i < p->layout.n_slots; i++) {
		if (p->slot_sessions[i] == session) {
			*ret_slot = i;
			return 0;
		}
		if (p->slot_sessions[i] == 0 && free_slot == UINT32_MAX)
			free_slot = i;
	}
	if (free_slot == UINT32_MAX)
		return -EUSERS;

	/* Whatever a former tenant (or a scribbler) left there goes. */
	frame_slot_assign(&p->frames.slots[free_slot], session);
	p->slot_sessions[free_slot] = session;
	p->n_attached++;
	raise_slots_used(p, free_slot);
	*ret_slot = free_slot;
	return 0;
}

static bool is_attached(const struct pool *p, uint32_t session)
{
	for (uint32_t i = 0; i < p->layout.n_slots; i++)
		if (p->slot_sessions[i] == session)
			return true;
	return false;
}

/* The state word as the daemon knows it should be. */
static uint32_t pool_state(const struct pool *p)
{
	if (p->retired)
		return SHM_STATE_DESTROYED;
	return p->committed ? SHM_STATE_COMMITTED : SHM_STATE_DECOMMITTED;
}

/*
 * Frees frames owned by sessions that do not have the pool open (none can,
 * legitimately). Frames a stream owns are not a session's: they go with the
 * stream's own repairs, or with the stream (stream_destroy()).
 */
static uint32_t sweep_orphans(struct pool *p)
{
	struct shm_slot scratch = { 0 };
	uint32_t n = 0;

	for (uint32_t i = 0; i < p->framing.frames; i++) {
		uint32_t session = shm_owner_tenant(atomic_load(&p->frames.frames[i].owner));

		/* A stream's frames are its own business (stream_consumer_detach()...). */
		if (session != 0 && !(session & SHM_TENANT_STREAM) && !is_attached(p, session))
			n += frame_reclaim(&p->frames, session, &scratch);
	}
	return n;
}

void pool_note_reclaim(struct pool *p, uint32_t frames)
{
	struct timespec now;

	if (!frames)
		return;
	p->reclaimed += frames;
	clock_gettime(CLOCK_MONOTONIC, &now);
	p->last_reclaim_ns = (uint64_t)now.tv_sec * 1000000000 + (uint64_t)now.tv_nsec;
	p->last_reclaim_frames = frames;
}

uint32_t pool_detach(struct pool *p, uint32_t slot)
{
	struct shm_slot *s;
	uint32_t session, n;

	if (slot >= p->layout.n_slots || p->slot_sessions[slot] == 0)
		return 0;
	/*
	 * The daemon is stopping (pool_retire()): the frames the session holds stay
	 * its own, valid memory in its mapping, rather than be freed under it; its
	 * release finds the pool destroyed (-ESTALE). Only the daemon's record goes.
	 */
	if (p->retired) {
		p->slot_sessions[slot] = 0;
		p->n_attached--;
		return 0;
	}
	/*
	 * Reclaiming hands frames to waiting slots: first every slot names the
	 * session the daemon gave it, so none goes to a session a client made up
	 * (and stays owned by nobody who will ever release it).
	 */
	for (uint32_t i = 0; i < p->layout.n_slots; i++)
		frame_slot_restore(&p->frames.slots[i], p->slot_sessions[i]);
	s = &p->frames.slots[slot];
	session = p->slot_sessions[slot];
	p->acquisitions_closed += atomic_load(&s->acquisitions);
	p->timeouts_closed += atomic_load(&s->timeouts);
	p->slot_sessions[slot] = 0;
	p->n_attached--;

	/* Takes the slot back (its tenant word goes to 0) and the frames with it. */
	n = frame_reclaim(&p->frames, session, s);
	n += sweep_orphans(p);
	pool_note_reclaim(p, n);
	/* What the daemon owns in the control block is rewritten, whatever a client did to it. */
	atomic_store(&p->frames.shared->state, pool_state(p));
	return n;
}

void pool_retire(struct pool *p)
{
	p->retired = true;
	frame_set_state(&p->frames, pool_state(p));
}

void pool_heartbeat(struct pool *p, uint64_t now_ms)
{
	/* A retired pool's daemon is going: its clients may see its heart stop. */
	if (!p->retired)
		shm_heartbeat_beat(p->frames.shared, now_ms);
}

void pool_set_committed(struct pool *p, bool committed)
{
	p->committed = committed;
	frame_set_state(&p->frames, pool_state(p));
}

uint64_t pool_bytes(const struct pool *p)
{
	if (p->layout.flags & SHM_LAYOUT_EXTERNAL_FRAMES)
		return p->layout.size_bytes + shm_layout_frame_bytes(&p->layout, p->framing.frames);
	return p->layout.size_bytes;
}

bool pool_has_framing(const struct pool *p, const struct framing *f)
{
	return p->framing.options_flags == f->options_flags &&
	       p->framing.pool_type == f->pool_type && p->framing.frames == f->frames &&
	       p->framing.frame_size == f->frame_size &&
	       p->framing.file_alignment == f->file_alignment;
}

uint32_t pool_allocated_frames(const struct pool *p)
{
	return frame_count_owned(&p->frames);
}

void pool_get_stats(const struct pool *p, struct pool_stats *ret_stats)
{
	struct pool_stats st = {
		.allocated = frame_count_owned(&p->frames),
		.acquisitions = p->acquisitions_closed,
		.timeouts = p->timeouts_closed,
		.reclaimed = p->reclaimed,
		.last_reclaim_ns = p->last_reclaim_ns,
		.last_reclaim_frames = p->last_reclaim_frames,
	};

	/* Read from shared memory: any value is possible, none is used for more than a number. */
	st.peak = atomic_load(&p->frames.shared->peak);
	if (st.peak < st.allocated)
		st.peak = st.allocated;
	if (st.peak > p->framing.frames)
		st.peak = p->framing.frames;
	for (uint32_t i = 0; i < p->layout.n_slots; i++) {
		const struct shm_slot *s = &p->frames.slots[i];

		if (p->slot_sessions[i] == 0)
			continue;
		st.waiters += frame_slot_waiting(s);
		st.acquisitions += atomic_load(&s->acquisitions);
		st.timeouts += atomic_load(&s->timeouts);
	}
	*ret_stats = st;
}

void pool_count_holds(const struct pool *p, uint32_t *held, uint64_t *oldest_ms)
{
	memset(held, 0, p->layout.n_slots * sizeof(*held));
	memset(oldest_ms, 0, p->layout.n_slots * sizeof(*oldest_ms));
	for (uint32_t i = 0; i < p->framing.frames; i++) {
		const struct shm_frame *f = &p->frames.frames[i];
		uint32_t session = shm_owner_tenant(atomic_load(&f->owner));
		uint64_t at;

		if (session == 0)
			continue;
		at = atomic_load(&f->acquired_ms);
		for (uint32_t s = 0; s < p->layout.n_slots; s++) {
			if (p->slot_sessions[s] != session)
				continue;
			held[s]++;
			if (oldest_ms[s] == 0 || at < oldest_ms[s])
				oldest_ms[s] = at;
			break;
		}
	}
}

int pool_reshape(struct pool *p, const struct framing *f, struct backend_error *err)
{
	struct pool_memory old = { .layout = p->layout,
				   .frames = p->framing.frames,
				   .fd = p->fd,
				   .map = p->map,
				   .frame_fds = p->frame_fds },
			   m;
	int r;

	r = memory_create(p, f, p->layout.n_slots, p->locked, &m, err);
	if (r < 0)
		return r;
	/* The old memory's users are told, as if the pool had gone, before it goes. */
	frame_set_state(&p->frames, SHM_STATE_DESTROYED);
	memory_release(&old);
	memory_install(p, f, &m);
	for (uint32_t i = 0; i < p->layout.n_slots; i++) {
		if (p->slot_sessions[i]) {
			frame_slot_assign(&p->frames.slots[i], p->slot_sessions[i]);
			raise_slots_used(p, i);
		}
	}
	pool_set_committed(p, p->committed);
	return 0;
}

uint64_t pool_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* The seals pool_new() puts on a pool's memfd: exactly these. */
#define POOL_SEALS (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL)

/*
 * Checks that @fd is a pool's memfd for @p (its id, name and backend), and
 * maps it into @m with its framing in @f. The control block is checked in a
 * private copy: clients may write the shared one while it is looked at.
 */
static int memory_adopt(const struct pool *p, int fd, struct pool_memory *m, struct framing *f,
			const char **ret_reason)
{
	struct shm_header h;
	struct shm_layout layout;
	struct stat st;
	int seals;

	*m = (struct pool_memory){ .fd = fd, .map = MAP_FAILED };
	seals = fcntl(fd, F_GET_SEALS);
	if (seals < 0) {
		*ret_reason = "not a memfd (it has no seals)";
		return -EBADF;
	}
	if (seals != POOL_SEALS) {
		*ret_reason = "its seals are not a pool's (shrink, grow and seal, not write)";
		return -EPERM;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size < (off_t)sizeof(h) ||
	    (uint64_t)st.st_size > POOL_MAX_SIZE_BYTES) {
		*ret_reason = "its size is not a pool's";
		return -EBADMSG;
	}
	if (pread(fd, &h, sizeof(h), 0) != (ssize_t)sizeof(h)) {
		*ret_reason = "its control block cannot be read";
		return -EBADMSG;
	}
	if (shm_header_check(&h, (size_t)st.st_size, &layout, ret_reason) < 0)
		return -EBADMSG;
	if (h.pool_id != p->id || strncmp(h.name, p->name, sizeof(h.name)) != 0 ||
	    layout.flags != p->backend.ops->layout_flags) {
		*ret_reason = "its control block names another pool or backend";
		return -EBADMSG;
	}
	m->map = mmap(NULL, layout.size_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (m->map == MAP_FAILED) {
		*ret_reason = "it cannot be mapped";
		return -errno;
	}
	m->layout = layout;
	m->frames = h.frames;
	*f = (struct framing){
		.options_flags = h.options_flags,
		.pool_type = h.pool_type,
		.frames = h.frames,
		.frame_size = h.frame_size,
		.file_alignment = h.file_alignment,
	};
	return 0;
}

/*
 * Whether dma-buf @fd was made by @exporter: the "exp_name:" line of its
 * /proc/self/fdinfo entry (the kernel has printed it since 5.3): "udmabuf",
 * or a heap's name for a DMA-BUF heap's buffers.
 */
static bool dmabuf_exporter_is(int fd, const char *exporter)
{
	char path[64], buf[512];
	const char *line;
	ssize_t n;
	size_t len = strlen(exporter);
	int info;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	info = open(path, O_RDONLY | O_CLOEXEC);
	if (info < 0)
		return false;
	n = read(info, buf, sizeof(buf) - 1);
	close(info);
	if (n <= 0)
		return false;
	buf[n] = 0;
	line = strstr(buf, "exp_name:\t");
	if (!line)
		return false;
	line += strlen("exp_name:\t");
	return strncmp(line, exporter, len) == 0 && (line[len] == '\n' || !line[len]);
}

/*
 * Checks frame @i's dma-buf @fd as a daemon before this one stored it, and
 * keeps a dup of it in @m. It must be a dma-buf (its file system's magic),
 * of the backend's exporter, at least a frame_stride long.
 *
 * For udmabuf it must also be the pool memfd's pages at the frame's offset,
 * and that is not checked: the kernel shows which pages a dma-buf has only
 * as page frame numbers in /proc/self/pagemap, which it hides without
 * CAP_SYS_ADMIN (the daemon has no capabilities), and comparing contents
 * through both mappings proves nothing without writing a frame a client may
 * hold. What is stored is only ever the daemon's and the manager's, so the
 * checks here are against mix-ups, as for the memfd's.
 */
static int frame_adopt(const struct pool *p, struct pool_memory *m, uint32_t i, int fd,
		       const char **ret_reason)
{
	const char *exporter = backend_heap(&p->backend);
	struct statfs sfs;
	off_t size;

	if (fd < 0) {
		*ret_reason = "a frame's dma-buf is missing from the store";
		return -ENOENT;
	}
	if (fstatfs(fd, &sfs) < 0 || sfs.f_type != DMA_BUF_MAGIC) {
		*ret_reason = "a frame's fd is not a dma-buf";
		return -EBADF;
	}
	size = lseek(fd, 0, SEEK_END);
	if (size < 0 || (uint64_t)size < m->layout.frame_stride) {
		*ret_reason = "a frame's dma-buf is smaller than a frame";
		return -EBADMSG;
	}
	if (!dmabuf_exporter_is(fd, exporter ? exporter : p->backend.ops->name)) {
		*ret_reason = "a frame's dma-buf is not the backend's (its exporter differs)";
		return -EBADMSG;
	}
	m->frame_fds[i] = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	if (m->frame_fds[i] < 0) {
		*ret_reason = "out of file descriptors";
		return -errno;
	}
	return 0;
}

/* Takes every frame's dma-buf of @o into @m (backend_has_dmabuf_frames()). */
static int frames_adopt(const struct pool *p, struct pool_memory *m,
			const struct pool_adopt_options *o, const char **ret_reason)
{
	m->frame_fds = malloc(m->frames * sizeof(*m->frame_fds));
	if (!m->frame_fds) {
		*ret_reason = "out of memory";
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < m->frames; i++)
		m->frame_fds[i] = -1;
	for (uint32_t i = 0; i < m->frames; i++) {
		int r = frame_adopt(p, m, i, i < o->n_frame_fds ? o->frame_fds[i] : -1, ret_reason);

		if (r < 0)
			return r;
	}
	return 0;
}

int pool_adopt(uint32_t id, int fd, const struct pool_adopt_options *o, struct pool **ret_pool,
	       const char **ret_reason)
{
	struct backend_error err;
	struct pool_memory m = { .fd = -1, .map = MAP_FAILED };
	struct framing f;
	struct pool *p;
	int r;

	if (id == 0 || shm_name_problem(o->name)) {
		*ret_reason = "bad id or name";
		close(fd);
		return -EINVAL;
	}
	p = calloc(1, sizeof(*p));
	if (!p) {
		close(fd);
		*ret_reason = "out of memory";
		return -ENOMEM;
	}
	p->id = id;
	strcpy(p->name, o->name);
	p->fd = -1;
	p->map = MAP_FAILED;
	r = backend_parse(o->backend, &p->backend, &err);
	if (r < 0) {
		*ret_reason = "unknown backend";
		close(fd);
		goto fail;
	}
	r = memory_adopt(p, fd, &m, &f, ret_reason);
	if (r == 0 && backend_has_dmabuf_frames(&p->backend))
		r = frames_adopt(p, &m, o, ret_reason);
	if (r < 0) {
		memory_release(&m);
		goto fail;
	}
	p->slot_sessions = calloc(m.layout.n_slots, sizeof(*p->slot_sessions));
	if (!p->slot_sessions) {
		*ret_reason = "out of memory";
		memory_release(&m);
		r = -ENOMEM;
		goto fail;
	}
	if (o->locked && (r = memory_lock(p, m.map, m.layout.size_bytes, &err)) < 0) {
		*ret_reason = "it cannot be locked in memory again";
		memory_release(&m);
		goto fail;
	}
	memory_install(p, &f, &m);
	p->locked = o->locked;
	p->persistent = o->persistent;
	p->from_config = o->from_config;
	p->committed = o->committed;
	p->removing = o->removing;
	p->access = o->access;
	p->acquisitions_closed = o->acquisitions_closed;
	p->timeouts_closed = o->timeouts_closed;
	p->reclaimed = o->reclaimed;
	p->last_reclaim_ns = o->last_reclaim_ns;
	p->last_reclaim_frames = o->last_reclaim_frames;
	*ret_pool = p;
	return 0;
fail:
	pool_free(p);
	return r;
}

int pool_attach_slot(struct pool *p, uint32_t session, uint32_t slot)
{
	if (slot >= p->layout.n_slots)
		return -ERANGE;
	if (p->slot_sessions[slot] != 0)
		return p->slot_sessions[slot] == session ? 0 : -EBUSY;
	for (uint32_t i = 0; i < p->layout.n_slots; i++)
		if (p->slot_sessions[i] == session)
			return -EBUSY;
	/* restore, not assign: its waiting threads and their count stay. */
	frame_slot_restore(&p->frames.slots[slot], session);
	p->slot_sessions[slot] = session;
	p->n_attached++;
	raise_slots_used(p, slot);
	return 0;
}

uint32_t pool_adopt_finish(struct pool *p)
{
	uint32_t n;

	for (uint32_t i = 0; i < p->layout.n_slots; i++)
		if (p->slot_sessions[i] == 0)
			frame_slot_assign(&p->frames.slots[i], 0);
		else
			frame_slot_restore(&p->frames.slots[i], p->slot_sessions[i]);
	n = sweep_orphans(p);
	p->reclaimed += n;
	frame_set_state(&p->frames, pool_state(p));
	return n;
}

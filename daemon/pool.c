/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "pool.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

/* Memory, layout and mapping of one framing: what pool_reshape() swaps whole. */
struct pool_memory {
	struct shm_layout layout;
	int fd;
	void *map;
};

static void memory_release(struct pool_memory *m)
{
	if (m->map != MAP_FAILED)
		munmap(m->map, m->layout.size_bytes);
	if (m->fd >= 0)
		close(m->fd);
	m->map = MAP_FAILED;
	m->fd = -1;
}

static int memory_create(const struct pool *p, const struct framing *f, uint32_t n_slots,
			 struct pool_memory *m)
{
	int r;

	*m = (struct pool_memory){ .fd = -1, .map = MAP_FAILED };
	r = shm_layout_compute(f, n_slots, POOL_MAX_SIZE_BYTES, &m->layout);
	if (r < 0)
		return r;
	r = p->backend->create(p->name, m->layout.size_bytes);
	if (r < 0)
		return r;
	m->fd = r;
	m->map = mmap(NULL, m->layout.size_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, m->fd, 0);
	if (m->map == MAP_FAILED) {
		r = -errno;
		goto fail;
	}
	shm_header_write(m->map, &m->layout, p->id, p->name, f);
	r = p->backend->seal(m->fd);
	if (r < 0)
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
	const struct backend_ops *backend = backend_find(o->backend);
	struct pool_memory m;
	struct pool *p;
	int r;

	if (!backend)
		return -ENOENT;
	if (id == 0 || strlen(o->name) >= SHM_NAME_MAX || o->n_slots == 0)
		return -EINVAL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->id = id;
	strcpy(p->name, o->name);
	p->backend = backend;
	p->persistent = o->persistent;
	p->from_config = o->from_config;
	p->access = o->access;
	p->committed = true;
	p->fd = -1;
	p->map = MAP_FAILED;
	p->slot_sessions = calloc(o->n_slots, sizeof(*p->slot_sessions));
	if (!p->slot_sessions) {
		r = -ENOMEM;
		goto fail;
	}
	r = memory_create(p, &o->framing, o->n_slots, &m);
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
	if (!p)
		return NULL;
	if (p->map != MAP_FAILED) {
		/* Clients still map it: tell their waiters, and their next acquire, it is gone. */
		frame_set_state(&p->frames, SHM_STATE_DESTROYED);
		munmap(p->map, p->layout.size_bytes);
	}
	if (p->fd >= 0)
		close(p->fd);
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

/* Frees frames owned by sessions that do not have the pool open (none can, legitimately). */
static uint32_t sweep_orphans(struct pool *p)
{
	struct shm_slot scratch = { 0 };
	uint32_t n = 0;

	for (uint32_t i = 0; i < p->framing.frames; i++) {
		uint32_t session = shm_owner_session(atomic_load(&p->frames.frames[i].owner));

		if (session != 0 && !is_attached(p, session))
			n += frame_reclaim(&p->frames, session, &scratch);
	}
	return n;
}

uint32_t pool_detach(struct pool *p, uint32_t slot)
{
	struct shm_slot *s;
	uint32_t session, n;

	if (slot >= p->layout.n_slots || p->slot_sessions[slot] == 0)
		return 0;
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
	p->reclaimed += n;
	if (n) {
		struct timespec now;

		clock_gettime(CLOCK_MONOTONIC, &now);
		p->last_reclaim_ns = (uint64_t)now.tv_sec * 1000000000 + (uint64_t)now.tv_nsec;
		p->last_reclaim_frames = n;
	}
	/* What the daemon owns in the control block is rewritten, whatever a client did to it. */
	atomic_store(&p->frames.shared->state, pool_state(p));
	return n;
}

void pool_retire(struct pool *p)
{
	p->retired = true;
	frame_set_state(&p->frames, pool_state(p));
}

void pool_set_committed(struct pool *p, bool committed)
{
	p->committed = committed;
	frame_set_state(&p->frames, pool_state(p));
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
		uint32_t session = shm_owner_session(atomic_load(&f->owner));
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

int pool_reshape(struct pool *p, const struct framing *f)
{
	struct pool_memory old = { .layout = p->layout, .fd = p->fd, .map = p->map }, m;
	int r;

	r = memory_create(p, f, p->layout.n_slots, &m);
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

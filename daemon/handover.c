/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "daemon/handover.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "daemon/transport/connection.h"
#include "daemon/util/log.h"

/* A passed entry's fd: taken by its new owner, or dropped (logged) already. */
#define PASSED_TAKEN (-1)
#define PASSED_DROPPED (-2)

/*
 * A store entry as a key that sorts: its kind in the top 4 bits, a frame's
 * index (FDSTORE_FRAME only, below FDSTORE_FRAME_MAX) in the next 28, its id
 * (a pool's, a session's, a state file's number) in the low 32.
 */
static uint64_t key_of(enum fdstore_kind kind, uint32_t id, uint32_t frame)
{
	return (uint64_t)kind << 60 | (uint64_t)frame << 32 | id;
}

static enum fdstore_kind key_kind(uint64_t key)
{
	return (enum fdstore_kind)(key >> 60);
}

static uint32_t key_id(uint64_t key)
{
	return (uint32_t)key;
}

static uint32_t key_frame(uint64_t key)
{
	return (uint32_t)(key >> 32) & ((1u << 28) - 1);
}

/* Removes every fd of @key's name from the store. */
static int remove_key(uint64_t key)
{
	return fdstore_remove(key_kind(key), key_id(key), key_frame(key));
}

static int cmp_key(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static int push_key(uint64_t **keys, size_t *n, uint64_t key)
{
	uint64_t *grown = reallocarray(*keys, *n + 1, sizeof(**keys));

	if (!grown)
		return -ENOMEM;
	*keys = grown;
	(*keys)[(*n)++] = key;
	return 0;
}

/* Adds @key, stored as @fd, to the sorted stored set. */
static int stored_insert(struct handover *h, uint64_t key, int fd)
{
	size_t i = 0;

	while (i < h->n_stored && h->stored[i] < key)
		i++;
	if (i < h->n_stored && h->stored[i] == key) {
		h->stored_fds[i] = fd;
		return 0;
	}
	if (h->n_stored == h->cap_stored) {
		size_t cap = h->cap_stored ? 2 * h->cap_stored : 64;
		uint64_t *grown = reallocarray(h->stored, cap, sizeof(*grown));
		int *grown_fds;

		if (!grown)
			return -ENOMEM;
		h->stored = grown;
		grown_fds = reallocarray(h->stored_fds, cap, sizeof(*grown_fds));
		if (!grown_fds)
			return -ENOMEM;
		h->stored_fds = grown_fds;
		h->cap_stored = cap;
	}
	memmove(h->stored + i + 1, h->stored + i, (h->n_stored - i) * sizeof(*h->stored));
	memmove(h->stored_fds + i + 1, h->stored_fds + i,
		(h->n_stored - i) * sizeof(*h->stored_fds));
	h->stored[i] = key;
	h->stored_fds[i] = fd;
	h->n_stored++;
	return 0;
}

static uint64_t *stored_find(const struct handover *h, uint64_t key)
{
	/* bsearch() must not see a NULL array, even an empty one. */
	if (!h->n_stored)
		return NULL;
	return bsearch(&key, h->stored, h->n_stored, sizeof(key), cmp_key);
}

static void stored_erase(struct handover *h, uint64_t key)
{
	uint64_t *at = stored_find(h, key);
	size_t i;

	if (!at)
		return;
	i = (size_t)(at - h->stored);

	memmove(at, at + 1, (h->n_stored - i - 1) * sizeof(*at));
	memmove(h->stored_fds + i, h->stored_fds + i + 1,
		(h->n_stored - i - 1) * sizeof(*h->stored_fds));
	h->n_stored--;
}

bool handover_available(void)
{
	const char *fdstore = getenv("FDSTORE"), *invocation = getenv("INVOCATION_ID");
	const char *exec_pid = getenv("SYSTEMD_EXEC_PID");

	/*
	 * Set by the manager for the process it started, like $LISTEN_PID: the
	 * others can be inherited (a test run from a systemd unit has
	 * $INVOCATION_ID), this one names us only if we are that process.
	 */
	if (!exec_pid || strtol(exec_pid, NULL, 10) != (long)getpid())
		return false;
	if (fdstore)
		return strtoul(fdstore, NULL, 10) > 0;
	return invocation && invocation[0];
}

void handover_init(struct handover *h, bool enabled)
{
	const char *max = getenv("FDSTORE");

	*h = (struct handover){ .enabled = enabled, .state = { .fd = -1 } };
	if (enabled && max)
		h->store_max = strtoul(max, NULL, 10);
}

/*
 * Beyond FileDescriptorStoreMax= systemd refuses an fd with a line in its own
 * log, and says nothing to the sender. Where it says how many it keeps
 * ($FDSTORE, systemd >= 254), the daemon counts, and says it once.
 */
static void check_store_room(struct handover *h)
{
	size_t n = h->n_stored + 1; /* and the state file */

	if (!h->store_max || h->warned_full || n <= h->store_max)
		return;
	h->warned_full = true;
	log_warning("the file descriptor store keeps %zu fds (FileDescriptorStoreMax=) and the "
		    "daemon has %zu to keep: what is beyond is lost on a restart; raise it",
		    h->store_max, n);
}

void handover_deinit(struct handover *h)
{
	for (size_t i = 0; i < h->n_passed; i++)
		if (h->passed[i].fd >= 0)
			close(h->passed[i].fd);
	free(h->passed);
	state_clear(&h->restored);
	free(h->stored);
	free(h->stored_fds);
	free(h->drop_first);
	free(h->drop_after_state);
	free(h->image);
	state_file_close(&h->state);
	*h = (struct handover){ .state = { .fd = -1 } };
}

/* Drops passed entry @p: logs why, closes it, and has its name removed from the store. */
static void drop_passed(struct handover *h, struct fdstore_passed *p, const char *why)
{
	log_warning("stored fd %s: %s; dropped", p->name, why);
	if (p->fd >= 0) {
		/* A client's connection nobody serves any more: it must see the hang-up. */
		if (p->kind == FDSTORE_CONNECTION)
			shutdown(p->fd, SHUT_RDWR);
		close(p->fd);
	}
	p->fd = PASSED_DROPPED;
}

/* Reads every passed state memfd; keeps the newest valid image. */
static void read_states(struct handover *h)
{
	uint64_t best_generation = 0;

	for (size_t i = 0; i < h->n_passed; i++) {
		struct fdstore_passed *p = &h->passed[i];
		const char *reason = NULL;
		uint8_t *payload = NULL;
		size_t len = 0;
		uint64_t generation = 0;
		uint32_t version = 0;
		struct state st;

		if (p->kind != FDSTORE_STATE)
			continue;
		if (p->id > h->state_seq_max)
			h->state_seq_max = p->id;
		/* Removed once the new state file is stored, whatever it held. */
		push_key(&h->drop_after_state, &h->n_drop_after_state,
			 key_of(FDSTORE_STATE, p->id, 0));
		if (state_file_read(p->fd, &payload, &len, &version, &generation, &reason) < 0 ||
		    state_decode(payload, len, version, &st, &reason) < 0) {
			free(payload);
			drop_passed(h, p, reason);
			continue;
		}
		free(payload);
		close(p->fd);
		p->fd = PASSED_TAKEN;
		if (h->have_restored && generation <= best_generation) {
			state_clear(&st);
			continue;
		}
		state_clear(&h->restored);
		h->restored = st;
		h->have_restored = true;
		best_generation = generation;
	}
	h->state.generation = best_generation;
}

int handover_take_passed(struct handover *h, int *ret_listen_fd)
{
	int listen_fd = -1, r;

	r = fdstore_take_passed(&listen_fd, &h->passed, &h->n_passed);
	if (r < 0) {
		log_error("cannot read the fds the service manager passed: %s", strerror(-r));
		return r;
	}
	if (!h->enabled) {
		for (size_t i = 0; i < h->n_passed; i++)
			drop_passed(h, &h->passed[i],
				    "no service manager to keep it ($NOTIFY_SOCKET)");
		*ret_listen_fd = listen_fd;
		return 0;
	}
	read_states(h);
	if (h->n_passed)
		log_info("the service manager passed %zu stored fds; state image %s", h->n_passed,
			 h->have_restored ? "found" : "missing or invalid");
	*ret_listen_fd = listen_fd;
	return 0;
}

/*
 * The frames' dma-bufs passed for pool @pool_id: (*ret_src)[i] is the passed
 * entry of frame i, or SIZE_MAX. Names need not be unique: the newest of a
 * name is taken, the others are left to be dropped. An index no complete
 * pool could have (beyond the number of fds passed) is left too, so that a
 * forged name cannot make this allocate much. Returns the number of entries
 * (0 when none), or -ENOMEM.
 */
static ssize_t gather_frames(struct handover *h, uint32_t pool_id, size_t **ret_src)
{
	size_t *src = NULL, n = 0;

	for (size_t j = 0; j < h->n_passed; j++) {
		const struct fdstore_passed *p = &h->passed[j];

		if (p->kind != FDSTORE_FRAME || p->id != pool_id || p->fd < 0 ||
		    p->frame >= h->n_passed)
			continue;
		if (p->frame >= n) {
			size_t *grown = reallocarray(src, p->frame + 1, sizeof(*src));

			if (!grown) {
				free(src);
				return -ENOMEM;
			}
			src = grown;
			while (n <= p->frame)
				src[n++] = SIZE_MAX;
		}
		if (src[p->frame] == SIZE_MAX)
			src[p->frame] = j;
	}
	*ret_src = src;
	return (ssize_t)n;
}

/*
 * Settles the frames gather_frames() found for a pool: those @pool took (a
 * dup each) are closed and known as stored; with no @pool (it was dropped)
 * they are closed and their names removed.
 */
static void settle_frames(struct handover *h, const struct pool *pool, const size_t *src, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct fdstore_passed *p = src[i] == SIZE_MAX ? NULL : &h->passed[src[i]];

		if (!p)
			continue;
		if (pool && (!pool->frame_fds || i >= pool->framing.frames))
			continue; /* not the pool's: dropped with the others left, logged */
		close(p->fd);
		if (pool) {
			p->fd = PASSED_TAKEN;
			stored_insert(h, key_of(FDSTORE_FRAME, pool->id, (uint32_t)i),
				      pool->frame_fds[i]);
		} else {
			p->fd = PASSED_DROPPED;
		}
	}
}

/*
 * Adopts each stream of the image whose pool came back, with its roles as
 * the image has them; sessions that do not come back leave theirs in
 * finish_streams().
 */
static void restore_streams(struct handover *h, struct storage *storage)
{
	const struct state *st = &h->restored;
	unsigned adopted = 0;

	for (uint32_t i = 0; i < st->n_streams; i++) {
		const struct state_stream *ts = &st->streams[i];
		struct pool *pool = storage_get(storage, ts->pool_id);
		struct stream *stream = NULL;
		bool found = false;

		for (size_t j = 0; pool && j < h->n_passed && !found; j++) {
			struct fdstore_passed *p = &h->passed[j];
			const char *reason = "";
			int fd = p->fd, r;

			if (p->kind != FDSTORE_STREAM || p->id != ts->id || fd < 0)
				continue;
			r = storage_adopt_stream(storage, ts->id, fd, pool, &ts->access,
						 ts->flags & STATE_STREAM_FROM_CONFIG, &stream,
						 &reason);
			if (r < 0) {
				log_warning("stored fd %s (stream %s): %s (%s); dropped", p->name,
					    ts->name, reason, strerror(-r));
				p->fd = PASSED_DROPPED;
				close(fd);
				continue;
			}
			p->fd = PASSED_TAKEN;
			found = true;
		}
		if (!found) {
			log_warning("stream %s (id %u): %s; its users must open it again", ts->name,
				    ts->id,
				    pool ? "no stored memfd checks out" : "its pool is gone");
			continue;
		}
		stream->producer = ts->producer;
		for (uint32_t c = 0; c < SHM_STREAM_CONSUMERS; c++)
			if (ts->consumers[c])
				stream_restore_consumer(stream, c, ts->consumers[c],
							ts->read_only & (1u << c));
		/* The image is the truth: what the memory says of roles is made to agree. */
		stream_restore(&stream->sm, stream->producer, stream->consumers);
		stored_insert(h, key_of(FDSTORE_STREAM, stream->id, 0), stream->fd);
		adopted++;
	}
	if (st->n_streams)
		log_info("took over %u of %u streams from the daemon before", adopted,
			 st->n_streams);
}

void handover_restore_pools(struct handover *h, struct storage *storage, struct rpc *rpc)
{
	const struct state *st = &h->restored;
	unsigned adopted = 0;
	int r;

	h->storage = storage;
	h->rpc = rpc;
	if (!h->have_restored)
		return;
	r = storage_restore_ids(storage, st->pool_id_base, st->pool_ids_used);
	if (r < 0) {
		log_error("state image: pool ids not restored: %s; its pools are dropped",
			  strerror(-r));
		return;
	}
	rpc->next_session_id = st->next_session_id;
	for (uint32_t i = 0; i < st->n_pools; i++) {
		const struct state_pool *sp = &st->pools[i];
		struct pool_adopt_options o = {
			.name = sp->name,
			.backend = sp->backend,
			.persistent = sp->flags & STATE_POOL_PERSISTENT,
			.from_config = sp->flags & STATE_POOL_FROM_CONFIG,
			.locked = sp->flags & STATE_POOL_LOCKED,
			.committed = sp->flags & STATE_POOL_COMMITTED,
			.removing = sp->flags & STATE_POOL_REMOVING,
			.access = sp->access,
			.acquisitions_closed = sp->acquisitions_closed,
			.timeouts_closed = sp->timeouts_closed,
			.reclaimed = sp->reclaimed,
			.last_reclaim_ns = sp->last_reclaim_ns,
			.last_reclaim_frames = sp->last_reclaim_frames,
		};
		struct pool *pool = NULL;
		size_t *src = NULL;
		ssize_t n_frames = gather_frames(h, sp->id, &src);
		int *frame_fds = NULL;
		bool found = false;

		if (n_frames > 0 && !(frame_fds = calloc((size_t)n_frames, sizeof(int))))
			n_frames = -ENOMEM;
		if (n_frames < 0) {
			log_warning("pool %s (id %u): out of memory; dropped", sp->name, sp->id);
			free(src);
			continue;
		}
		for (ssize_t f = 0; f < n_frames; f++)
			frame_fds[f] = src[f] == SIZE_MAX ? -1 : h->passed[src[f]].fd;
		o.frame_fds = frame_fds;
		o.n_frame_fds = (uint32_t)n_frames;

		/* Newest first; names need not be unique: the first that checks out wins. */
		for (size_t j = 0; j < h->n_passed && !found; j++) {
			struct fdstore_passed *p = &h->passed[j];
			const char *reason = "";
			int fd = p->fd;

			if (p->kind != FDSTORE_POOL || p->id != sp->id || fd < 0)
				continue;
			p->fd = PASSED_DROPPED; /* storage_adopt() takes it either way */
			r = storage_adopt(storage, sp->id, fd, &o, &pool, &reason);
			if (r < 0) {
				log_warning("stored fd %s (pool %s): %s (%s); dropped", p->name,
					    sp->name, reason, strerror(-r));
				continue;
			}
			p->fd = PASSED_TAKEN;
			found = true;
			adopted++;
			stored_insert(h, key_of(FDSTORE_POOL, sp->id, 0), pool->fd);
		}
		settle_frames(h, found ? pool : NULL, src, (size_t)n_frames);
		free(frame_fds);
		free(src);
		if (!found)
			log_warning("pool %s (id %u): no stored memfd checks out; its clients must "
				    "open it again",
				    sp->name, sp->id);
	}
	log_info("took over %u of %u pools from the daemon before", adopted, st->n_pools);
	restore_streams(h, storage);
}

/* Serves session @ss again on the first passed connection of its id that checks out. */
static bool restore_session(struct handover *h, const struct state_session *ss)
{
	struct session_restore r = {
		.id = ss->id,
		.token = ss->token,
		.pid = ss->pid,
		.uid = ss->uid,
		.gid = ss->gid,
		.groups = ss->groups,
		.n_groups = ss->n_groups,
		.name = ss->name,
		.greeted = ss->greeted,
		.connected_ms = ss->connected_ms,
		.bindings = ss->bindings,
		.n_bindings = ss->n_bindings,
		.sub_pool = ss->subscribed ? ss->sub_pool : NULL,
		.sub_interval_ms = ss->sub_interval_ms,
		.sub_hold_ms = ss->sub_hold_ms,
		.sub_streams = ss->sub_streams,
	};

	for (size_t j = 0; j < h->n_passed; j++) {
		struct fdstore_passed *p = &h->passed[j];
		const char *reason = "";
		int fd = p->fd, e;

		if (p->kind != FDSTORE_CONNECTION || p->id != ss->id || fd < 0)
			continue;
		p->fd = PASSED_DROPPED; /* server_adopt() takes it either way */
		e = server_adopt(h->server, fd, &r, &reason);
		if (e < 0) {
			log_warning("stored fd %s (session %u, %s): %s (%s); dropped", p->name,
				    ss->id, ss->name, reason, strerror(-e));
			continue;
		}
		p->fd = PASSED_TAKEN;
		stored_insert(h, key_of(FDSTORE_CONNECTION, ss->id, 0), fd);
		return true;
	}
	return false;
}

/* Sessions that did not come back leave their roles in the streams, as if they had gone now. */
static void finish_streams(struct handover *h)
{
	struct stream *st, *next;
	uint32_t orphans = storage_sweep_stream_orphans(h->storage, NULL);

	if (orphans)
		log_info("%u frames of streams not taken over: back to their pools", orphans);

	list_for_each_entry_safe(st, next, storage_streams(h->storage), link) {
		uint32_t freed = 0;

		if (st->producer && !session_find(&h->rpc->sessions, st->producer)) {
			uint32_t id = st->producer, n = stream_drop_producer(st);

			events_note_stream(&h->rpc->events, EVENTS_STREAM_PRODUCER_GONE, st, id,
					   NULL, n);
			freed += n;
			log_info("stream %s: its producer did not come back", st->name);
		}
		for (uint32_t c = 0; c < SHM_STREAM_CONSUMERS; c++)
			if (st->consumers[c] &&
			    !session_find(&h->rpc->sessions, st->consumers[c])) {
				uint32_t id = st->consumers[c], n = stream_remove_consumer(st, c);

				events_note_stream(&h->rpc->events, EVENTS_STREAM_CONSUMER_GONE, st,
						   id, NULL, n);
				freed += n;
			}
		if (freed)
			log_info("stream %s: %u frames of clients gone while no daemon ran: "
				 "reclaimed",
				 st->name, freed);
		if (stream_unused(st) && !st->from_config) {
			log_info("stream %s: none of its users came back, dropping it", st->name);
			stored_erase(h, key_of(FDSTORE_STREAM, st->id, 0));
			push_key(&h->drop_first, &h->n_drop_first,
				 key_of(FDSTORE_STREAM, st->id, 0));
			storage_remove_stream(h->storage, st);
		}
	}
}

/* Adopted pools take back what sessions that did not come back held. */
static void finish_pools(struct handover *h)
{
	struct pool *p;
	uint32_t id = 0;

	while ((p = storage_next(h->storage, &id))) {
		uint32_t n = pool_adopt_finish(p);

		if (n)
			log_info(
				"pool %s: %u frames of clients gone while no daemon ran: reclaimed",
				p->name, n);
		if (!p->persistent && p->n_attached == 0) {
			log_info("pool %s: none of its sessions came back, destroying it", p->name);
			stored_erase(h, key_of(FDSTORE_POOL, p->id, 0));
			push_key(&h->drop_first, &h->n_drop_first, key_of(FDSTORE_POOL, p->id, 0));
			storage_remove(h->storage, p->id);
		}
	}
}

void handover_restore_sessions(struct handover *h, struct server *server)
{
	unsigned restored = 0;

	h->server = server;
	for (uint32_t i = 0; h->have_restored && i < h->restored.n_sessions; i++) {
		const struct state_session *ss = &h->restored.sessions[i];

		if (restore_session(h, ss))
			restored++;
		else
			log_info("session %u (%s, pid %d) did not come back: its frames are "
				 "reclaimed",
				 ss->id, ss->name, (int)ss->pid);
	}
	if (h->have_restored) {
		finish_streams(h);
		finish_pools(h);
		log_info("took over %u of %u sessions from the daemon before", restored,
			 h->restored.n_sessions);
	}
	/* What is left was not named by the state, or lost to a forgery of its name. */
	for (size_t i = 0; i < h->n_passed; i++) {
		struct fdstore_passed *p = &h->passed[i];
		uint64_t key = key_of(p->kind, p->id, p->frame);

		if (p->fd >= 0)
			drop_passed(h, p,
				    h->have_restored ? "not named by the state image" :
						       "no valid state image describes it");
		if (p->fd == PASSED_DROPPED && p->kind != FDSTORE_STATE) {
			/* Removing the name removes a good fd of that name too: store it again. */
			stored_erase(h, key);
			push_key(&h->drop_first, &h->n_drop_first, key);
		}
	}
	free(h->passed);
	h->passed = NULL;
	h->n_passed = 0;
	state_clear(&h->restored);
	h->have_restored = false;
	h->dirty = true;
}

/* What is live now: a key and its fd. */
struct live {
	uint64_t key;
	int fd;
	const void *object; /* struct pool, struct session or struct stream */
};

static int cmp_live(const void *a, const void *b)
{
	return cmp_key(&((const struct live *)a)->key, &((const struct live *)b)->key);
}

/* Frames of @p that are dma-bufs of their own, each stored under a name of its own. */
static uint32_t dmabuf_frames(const struct pool *p)
{
	return p->frame_fds ? p->framing.frames : 0;
}

static int collect_live(struct handover *h, struct live **ret, size_t *ret_n)
{
	size_t n = 0, max = storage_count(h->storage) + h->rpc->n_sessions + 1;
	struct live *live;
	struct stream *st;
	struct session *s;
	struct pool *p;
	uint32_t id = 0;

	while ((p = storage_next(h->storage, &id)))
		max += dmabuf_frames(p);
	list_for_each_entry(st, storage_streams(h->storage), link)
		max++;
	live = calloc(max, sizeof(*live));
	if (!live)
		return -ENOMEM;
	id = 0;
	while ((p = storage_next(h->storage, &id))) {
		live[n++] = (struct live){ key_of(FDSTORE_POOL, p->id, 0), p->fd, p };
		for (uint32_t i = 0; i < dmabuf_frames(p); i++)
			live[n++] = (struct live){ key_of(FDSTORE_FRAME, p->id, i), p->frame_fds[i],
						   p };
	}
	list_for_each_entry(s, &h->rpc->sessions, link)
		live[n++] = (struct live){ key_of(FDSTORE_CONNECTION, s->id, 0),
					   connection_of(s)->fd, s };
	list_for_each_entry(st, storage_streams(h->storage), link)
		live[n++] = (struct live){ key_of(FDSTORE_STREAM, st->id, 0), st->fd, st };
	qsort(live, n, sizeof(*live), cmp_live);
	*ret = live;
	*ret_n = n;
	return 0;
}

/* Whether @p's memfd and every frame's dma-buf are in the store as they are now. */
static bool pool_stored(const struct handover *h, const struct pool *p)
{
	for (uint32_t i = 0; i < dmabuf_frames(p); i++) {
		uint64_t *at = stored_find(h, key_of(FDSTORE_FRAME, p->id, i));

		if (!at || h->stored_fds[at - h->stored] != p->frame_fds[i])
			return false;
	}
	return stored_find(h, key_of(FDSTORE_POOL, p->id, 0)) != NULL;
}

/* The state as the stored things make it: only what the store has is named. */
static int encode_state(struct handover *h, const struct live *live, size_t n, uint8_t **ret_buf,
			size_t *ret_len)
{
	struct state st = { .next_session_id = h->rpc->next_session_id };
	int r;

	storage_ids(h->storage, &st.pool_id_base, &st.pool_ids_used);
	st.pools = calloc(n + 1, sizeof(*st.pools));
	st.sessions = calloc(n + 1, sizeof(*st.sessions));
	st.streams = calloc(n + 1, sizeof(*st.streams));
	if (!st.pools || !st.sessions || !st.streams) {
		r = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		if (!stored_find(h, live[i].key) || key_kind(live[i].key) == FDSTORE_FRAME)
			continue;
		if (key_kind(live[i].key) == FDSTORE_POOL) {
			const struct pool *p = live[i].object;
			struct state_pool *sp;

			/* A pool some of whose frames the store lacks could not be taken over. */
			if (!pool_stored(h, p))
				continue;
			sp = &st.pools[st.n_pools++];

			*sp = (struct state_pool){
				.id = p->id,
				.access = p->access,
				.flags = (p->persistent ? STATE_POOL_PERSISTENT : 0) |
					 (p->from_config ? STATE_POOL_FROM_CONFIG : 0) |
					 (p->locked ? STATE_POOL_LOCKED : 0) |
					 (p->committed ? STATE_POOL_COMMITTED : 0) |
					 (p->removing ? STATE_POOL_REMOVING : 0),
				.acquisitions_closed = p->acquisitions_closed,
				.timeouts_closed = p->timeouts_closed,
				.reclaimed = p->reclaimed,
				.last_reclaim_ns = p->last_reclaim_ns,
				.last_reclaim_frames = p->last_reclaim_frames,
			};
			strcpy(sp->name, p->name);
			strcpy(sp->backend, p->backend.name);
		} else if (key_kind(live[i].key) == FDSTORE_STREAM) {
			const struct stream *t = live[i].object;
			struct state_stream *ts;

			/* Only with its pool: a stream is adopted over the pool's memory. */
			if (!pool_stored(h, t->pool))
				continue;
			ts = &st.streams[st.n_streams++];
			*ts = (struct state_stream){
				.id = t->id,
				.pool_id = t->pool->id,
				.access = t->access,
				.flags = t->from_config ? STATE_STREAM_FROM_CONFIG : 0,
				.producer = t->producer,
			};
			strcpy(ts->name, t->name);
			for (uint32_t c = 0; c < SHM_STREAM_CONSUMERS; c++) {
				ts->consumers[c] = t->consumers[c];
				ts->read_only |= t->read_only[c] ? 1u << c : 0;
			}
		} else {
			const struct session *s = live[i].object;
			struct state_session *ss = &st.sessions[st.n_sessions++];
			const char *sub_pool;

			*ss = (struct state_session){
				.id = s->id,
				.token = s->token,
				.pid = s->pid,
				.uid = s->uid,
				.gid = s->gid,
				.n_groups = (uint32_t)s->n_groups,
				.groups = s->groups,
				.greeted = s->greeted,
				.connected_ms = s->connected_ms,
				.n_bindings = s->n_bindings,
				.bindings = s->bindings,
			};
			strcpy(ss->name, s->name);
			ss->subscribed = events_subscription_get(s, &sub_pool, &ss->sub_interval_ms,
								 &ss->sub_hold_ms,
								 &ss->sub_streams);
			if (ss->subscribed)
				strcpy(ss->sub_pool, sub_pool);
		}
	}
	r = state_encode(&st, ret_buf, ret_len);
out:
	free(st.pools);
	free(st.sessions);
	free(st.streams);
	return r;
}

/* Writes @buf to the state file, moving to a larger one when it does not fit. */
static int write_state(struct handover *h, const uint8_t *buf, size_t len)
{
	struct state_file bigger;
	int r;

	if (h->state.fd < 0) {
		r = state_file_new(h->state_seq_max + 1, len, h->state.generation, &h->state);
		if (r < 0)
			return r;
		h->state_seq_max = h->state.seq;
		h->state_stored = false;
	}
	r = state_file_write(&h->state, buf, len);
	if (r != -ENOSPC)
		return r;
	if (!h->state_stored)
		/* Not stored yet: nothing names it, so it may simply be replaced. */
		state_file_close(&h->state);
	r = state_file_new(h->state_seq_max + 1, len, h->state.generation, &bigger);
	if (r < 0)
		return r;
	r = state_file_write(&bigger, buf, len);
	if (r < 0) {
		state_file_close(&bigger);
		return r;
	}
	if (h->state.fd >= 0) {
		push_key(&h->drop_after_state, &h->n_drop_after_state,
			 key_of(FDSTORE_STATE, h->state.seq, 0));
		state_file_close(&h->state);
	}
	h->state = bigger;
	h->state_seq_max = bigger.seq;
	h->state_stored = false;
	return 0;
}

/* Sends removals of @keys from the front; keeps what could not be sent. */
static int flush_removals(uint64_t *keys, size_t *n)
{
	size_t done = 0;
	int r = 0;

	if (!*n)
		return 0;
	while (done < *n && (r = remove_key(keys[done])) == 0)
		done++;
	memmove(keys, keys + done, (*n - done) * sizeof(*keys));
	*n -= done;
	return r;
}

int handover_sync(struct handover *h)
{
	struct live *live = NULL;
	uint8_t *image = NULL;
	size_t n_live = 0, image_len = 0, l = 0;
	uint64_t *gone = NULL;
	size_t n_gone = 0;
	bool again = false;
	int r;

	if (!h->enabled || !h->storage || !h->server)
		return 0;
	if (!h->dirty && h->rpc->changes == h->synced_changes && !h->n_drop_first &&
	    !h->n_drop_after_state)
		return 0;
	h->synced_changes = h->rpc->changes;
	h->dirty = false;

	/* Forged or broken entries first: a good fd of the same name is stored again below. */
	if (flush_removals(h->drop_first, &h->n_drop_first) == -EAGAIN) {
		h->dirty = true;
		return -EAGAIN;
	}
	r = collect_live(h, &live, &n_live);
	if (r < 0)
		goto out;
	/* Stored first, named by the state next. */
	for (size_t i = 0; i < n_live; i++) {
		uint64_t *at = stored_find(h, live[i].key);

		if (at && h->stored_fds[at - h->stored] == live[i].fd)
			continue;
		/*
		 * A pool reshaped has a new memfd under the same name: out with the
		 * old one first (pool_reshape() makes the new one while the old is
		 * open, so the numbers always differ).
		 */
		r = at ? remove_key(live[i].key) : 0;
		/*
		 * Out of the store now: until the new fd is in, the state must not
		 * name it (it would name what the store lacks), and the next sync
		 * stores it whatever this one manages.
		 */
		if (at && r == 0)
			stored_erase(h, live[i].key);
		if (r == 0)
			r = fdstore_add(key_kind(live[i].key), key_id(live[i].key),
					key_frame(live[i].key), live[i].fd);
		if (r == 0)
			r = stored_insert(h, live[i].key, live[i].fd);
		if (r < 0)
			again = true;
	}
	/* What is stored but no longer live: forgotten by the state, then removed. */
	for (size_t i = 0; i < h->n_stored; i++) {
		while (l < n_live && live[l].key < h->stored[i])
			l++;
		if (l < n_live && live[l].key == h->stored[i])
			continue;
		if (push_key(&gone, &n_gone, h->stored[i]) < 0)
			again = true;
	}
	for (size_t i = 0; i < n_gone; i++)
		stored_erase(h, gone[i]);

	r = encode_state(h, live, n_live, &image, &image_len);
	if (r < 0)
		goto out;
	if (h->state.fd < 0 || image_len != h->image_len || memcmp(image, h->image, image_len)) {
		r = write_state(h, image, image_len);
		if (r < 0) {
			log_warning("cannot write the state image: %s", strerror(-r));
			goto out;
		}
		free(h->image);
		h->image = image;
		h->image_len = image_len;
		image = NULL;
	}
	if (!h->state_stored) {
		r = fdstore_add(FDSTORE_STATE, h->state.seq, 0, h->state.fd);
		if (r < 0)
			goto out;
		h->state_stored = true;
	}
	check_store_room(h);
	if (flush_removals(h->drop_after_state, &h->n_drop_after_state) < 0)
		again = true;
	for (size_t i = 0; i < n_gone; i++) {
		if (remove_key(gone[i]) < 0) {
			/* Still in the store: try again next time (the fd matters no more). */
			stored_insert(h, gone[i], -1);
			again = true;
		}
	}
	r = 0;
out:
	if (r < 0 || again) {
		h->dirty = true;
		if (r < 0 && r != -EAGAIN)
			log_warning("file descriptor store: %s", strerror(-r));
		r = -EAGAIN;
	}
	free(gone);
	free(image);
	free(live);
	return r;
}

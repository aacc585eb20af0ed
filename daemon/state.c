/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "daemon/state.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

struct slot_header {
	uint32_t magic;
	uint32_t version;
	uint64_t generation;
	uint64_t payload_len;
	uint64_t checksum; /* FNV-1a 64 over magic, version, generation, length and payload */
};

/*
 * FNV-1a: the checksum is against torn writes, not against a forger (who
 * would need the daemon's uid to reach the memfd at all).
 */
static uint64_t fnv1a(uint64_t h, const void *data, size_t len)
{
	const uint8_t *p = data;

	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= UINT64_C(0x100000001b3);
	}
	return h;
}

static uint64_t checksum(const struct slot_header *h, const void *payload)
{
	uint64_t sum = UINT64_C(0xcbf29ce484222325);

	sum = fnv1a(sum, h, offsetof(struct slot_header, checksum));
	return fnv1a(sum, payload, h->payload_len);
}

/* Encoding: a cursor that grows its buffer. */
struct writer {
	uint8_t *buf;
	size_t len, cap;
	bool failed;
};

static void put(struct writer *w, const void *data, size_t len)
{
	if (w->failed)
		return;
	if (w->len + len > w->cap) {
		size_t cap = w->cap ? w->cap : 4096;
		uint8_t *grown;

		while (cap < w->len + len)
			cap *= 2;
		grown = realloc(w->buf, cap);
		if (!grown) {
			w->failed = true;
			return;
		}
		w->buf = grown;
		w->cap = cap;
	}
	memcpy(w->buf + w->len, data, len);
	w->len += len;
}

static void put_u32(struct writer *w, uint32_t v)
{
	put(w, &v, sizeof(v));
}

static void put_u64(struct writer *w, uint64_t v)
{
	put(w, &v, sizeof(v));
}

int state_encode(const struct state *st, uint8_t **ret_buf, size_t *ret_len)
{
	struct writer w = { 0 };

	put_u32(&w, st->pool_id_base);
	put_u32(&w, st->pool_ids_used);
	put_u32(&w, st->next_session_id);
	put_u32(&w, st->n_pools);
	put_u32(&w, st->n_sessions);
	for (uint32_t i = 0; i < st->n_pools; i++) {
		const struct state_pool *p = &st->pools[i];

		put_u32(&w, p->id);
		put(&w, p->name, sizeof(p->name));
		put(&w, p->backend, sizeof(p->backend));
		put_u32(&w, p->access.owner);
		put_u32(&w, p->access.group);
		put_u32(&w, p->access.mode);
		put_u32(&w, p->flags);
		put_u64(&w, p->acquisitions_closed);
		put_u64(&w, p->timeouts_closed);
		put_u64(&w, p->reclaimed);
		put_u64(&w, p->last_reclaim_ns);
		put_u32(&w, p->last_reclaim_frames);
	}
	for (uint32_t i = 0; i < st->n_sessions; i++) {
		const struct state_session *s = &st->sessions[i];

		put_u32(&w, s->id);
		put_u64(&w, s->token);
		put_u32(&w, (uint32_t)s->pid);
		put_u32(&w, s->uid);
		put_u32(&w, s->gid);
		put(&w, s->name, sizeof(s->name));
		put_u32(&w, s->greeted);
		put_u64(&w, s->connected_ms);
		put_u32(&w, s->n_groups);
		put_u32(&w, s->n_bindings);
		put_u32(&w, (uint32_t)s->subscribed | (uint32_t)(s->subscribed && s->sub_streams)
							      << 1);
		put(&w, s->sub_pool, sizeof(s->sub_pool));
		put_u32(&w, s->sub_interval_ms);
		put_u32(&w, s->sub_hold_ms);
		for (uint32_t g = 0; g < s->n_groups; g++)
			put_u32(&w, s->groups[g]);
		for (uint32_t b = 0; b < s->n_bindings; b++) {
			put_u32(&w, s->bindings[b].pool_id);
			put_u32(&w, s->bindings[b].slot);
		}
	}
	put_u32(&w, st->n_streams);
	for (uint32_t i = 0; i < st->n_streams; i++) {
		const struct state_stream *t = &st->streams[i];

		put_u32(&w, t->id);
		put(&w, t->name, sizeof(t->name));
		put_u32(&w, t->pool_id);
		put_u32(&w, t->access.owner);
		put_u32(&w, t->access.group);
		put_u32(&w, t->access.mode);
		put_u32(&w, t->flags);
		put_u32(&w, t->producer);
		for (uint32_t c = 0; c < SHM_STREAM_CONSUMERS; c++)
			put_u32(&w, t->consumers[c]);
		put_u32(&w, t->read_only);
	}
	if (w.failed) {
		free(w.buf);
		return -ENOMEM;
	}
	*ret_buf = w.buf;
	*ret_len = w.len;
	return 0;
}

/* Decoding: a cursor that fails once past the end, and stays failed. */
struct reader {
	const uint8_t *p;
	size_t left;
	bool failed;
};

static void get(struct reader *r, void *out, size_t len)
{
	if (r->failed || len > r->left) {
		r->failed = true;
		memset(out, 0, len);
		return;
	}
	memcpy(out, r->p, len);
	r->p += len;
	r->left -= len;
}

static uint32_t get_u32(struct reader *r)
{
	uint32_t v;

	get(r, &v, sizeof(v));
	return v;
}

static uint64_t get_u64(struct reader *r)
{
	uint64_t v;

	get(r, &v, sizeof(v));
	return v;
}

/* A fixed-size text field: NUL-terminated within it, printable ASCII before. */
static bool text_ok(const char *s, size_t size)
{
	const char *end = memchr(s, 0, size);

	if (!end)
		return false;
	for (; s < end; s++)
		if (*s < ' ' || *s > '~')
			return false;
	return true;
}

/*
 * A session's subscription: none (all zero), or a pool name or "" and an
 * interval from the floor; @subscribed is 1, or 3 with the streams' events.
 */
static bool subscription_ok(const struct state_session *s, uint32_t subscribed)
{
	if (subscribed > 3 || subscribed == 2)
		return false;
	if (!subscribed)
		return !s->sub_pool[0] && !s->sub_interval_ms && !s->sub_hold_ms;
	return (!s->sub_pool[0] || !shm_name_problem(s->sub_pool)) &&
	       s->sub_interval_ms >= STATE_SUB_INTERVAL_MIN_MS;
}

/* The streams of a version 3 image: NULL, or what is wrong with them. */
static const char *decode_streams(struct reader *r, struct state *st)
{
	uint32_t n = get_u32(r);

	/* Each record: the name and 8 + SHM_STREAM_CONSUMERS 32-bit words. */
	if (r->failed || n > STATE_STREAMS_MAX ||
	    (uint64_t)n * (SHM_NAME_MAX + 4 * (8 + SHM_STREAM_CONSUMERS)) > r->left)
		return "bad count of streams";
	st->streams = calloc(n ? n : 1, sizeof(*st->streams));
	if (!st->streams)
		return "out of memory";
	for (uint32_t i = 0; i < n && !r->failed; i++) {
		struct state_stream *t = &st->streams[i];

		t->id = get_u32(r);
		get(r, t->name, sizeof(t->name));
		t->pool_id = get_u32(r);
		t->access.owner = get_u32(r);
		t->access.group = get_u32(r);
		t->access.mode = get_u32(r);
		t->flags = get_u32(r);
		t->producer = get_u32(r);
		for (uint32_t c = 0; c < SHM_STREAM_CONSUMERS; c++)
			t->consumers[c] = get_u32(r);
		t->read_only = get_u32(r);
		if (r->failed)
			break;
		if (t->id == 0 || t->id >= SHM_TENANT_STREAM || shm_name_problem(t->name) ||
		    (t->access.mode & ~ACCESS_MODE_MASK) || (t->flags & ~STATE_STREAM_VALID))
			return "a stream's record is out of bounds";
		st->n_streams++;
	}
	return NULL;
}

int state_decode(const uint8_t *buf, size_t len, uint32_t version, struct state *ret_state,
		 const char **ret_reason)
{
	struct state st = { 0 };
	struct reader r;
	const char *reason = NULL;
	size_t extra;
	uint8_t *copy;

	if (version < STATE_VERSION_MIN || version > STATE_VERSION) {
		*ret_reason = "a version this daemon does not read";
		return -EBADMSG;
	}
	/* Arrays of pools and sessions, then the copy their groups and bindings point into. */
	copy = malloc(len ? len : 1);
	if (!copy) {
		*ret_reason = "out of memory";
		return -ENOMEM;
	}
	memcpy(copy, buf, len);
	r = (struct reader){ .p = copy, .left = len };
	st.pool_id_base = get_u32(&r);
	st.pool_ids_used = get_u32(&r);
	st.next_session_id = get_u32(&r);
	st.n_pools = get_u32(&r);
	st.n_sessions = get_u32(&r);
	if (r.failed || st.n_pools > STATE_POOLS_MAX || st.n_sessions > STATE_SESSIONS_MAX ||
	    st.pool_ids_used > INT32_MAX || st.pool_id_base > INT32_MAX ||
	    st.next_session_id == 0) {
		reason = "bad counts in its head";
		goto fail;
	}
	extra = (size_t)st.n_pools * sizeof(*st.pools) +
		(size_t)st.n_sessions * sizeof(*st.sessions);
	st.storage = malloc(extra ? extra : 1);
	if (!st.storage) {
		reason = "out of memory";
		goto fail;
	}
	st.pools = st.storage;
	st.sessions = (struct state_session *)(st.pools + st.n_pools);
	for (uint32_t i = 0; i < st.n_pools && !r.failed; i++) {
		struct state_pool *p = &st.pools[i];

		p->id = get_u32(&r);
		get(&r, p->name, sizeof(p->name));
		get(&r, p->backend, sizeof(p->backend));
		p->access.owner = get_u32(&r);
		p->access.group = get_u32(&r);
		p->access.mode = get_u32(&r);
		p->flags = get_u32(&r);
		p->acquisitions_closed = get_u64(&r);
		p->timeouts_closed = get_u64(&r);
		p->reclaimed = get_u64(&r);
		p->last_reclaim_ns = get_u64(&r);
		p->last_reclaim_frames = get_u32(&r);
		if (r.failed)
			break;
		if (p->id <= st.pool_id_base || p->id - st.pool_id_base > st.pool_ids_used ||
		    shm_name_problem(p->name) || !text_ok(p->backend, sizeof(p->backend)) ||
		    (p->access.mode & ~ACCESS_MODE_MASK) || (p->flags & ~STATE_POOL_VALID)) {
			reason = "a pool's record is out of bounds";
			goto fail;
		}
	}
	for (uint32_t i = 0; i < st.n_sessions && !r.failed; i++) {
		struct state_session *s = &st.sessions[i];
		uint32_t subscribed = 0;
		int32_t pid;

		s->id = get_u32(&r);
		s->token = get_u64(&r);
		pid = (int32_t)get_u32(&r);
		s->pid = pid;
		s->uid = get_u32(&r);
		s->gid = get_u32(&r);
		get(&r, s->name, sizeof(s->name));
		s->greeted = get_u32(&r) != 0;
		s->connected_ms = get_u64(&r);
		s->n_groups = get_u32(&r);
		s->n_bindings = get_u32(&r);
		memset(s->sub_pool, 0, sizeof(s->sub_pool));
		s->sub_interval_ms = s->sub_hold_ms = 0;
		if (version >= 2) {
			subscribed = get_u32(&r);
			get(&r, s->sub_pool, sizeof(s->sub_pool));
			s->sub_interval_ms = get_u32(&r);
			s->sub_hold_ms = get_u32(&r);
		}
		s->subscribed = subscribed & 1;
		s->sub_streams = subscribed & 2;
		if (r.failed)
			break;
		if (s->id == 0 || pid <= 0 || !text_ok(s->name, sizeof(s->name)) ||
		    !subscription_ok(s, subscribed) || s->n_groups > STATE_GROUPS_MAX ||
		    s->n_bindings > STATE_BINDINGS_MAX ||
		    (uint64_t)s->n_groups * 4 + (uint64_t)s->n_bindings * 8 > r.left) {
			reason = "a session's record is out of bounds";
			goto fail;
		}
		/* In place in the copy: 4-byte fields at 4-byte offsets of a malloc'ed block. */
		s->groups = (const gid_t *)r.p;
		r.p += (size_t)s->n_groups * 4;
		r.left -= (size_t)s->n_groups * 4;
		s->bindings = (const struct binding *)r.p;
		r.p += (size_t)s->n_bindings * 8;
		r.left -= (size_t)s->n_bindings * 8;
	}
	if (!r.failed && version >= 3 && (reason = decode_streams(&r, &st)))
		goto fail;
	if (r.failed) {
		reason = "it ends inside a record";
		goto fail;
	}
	if (r.left) {
		reason = "bytes follow its last record";
		goto fail;
	}
	st.payload = copy;
	*ret_state = st;
	return 0;
fail:
	free(st.streams);
	free(st.storage);
	free(copy);
	*ret_reason = reason ? reason : "it ends inside a record";
	return -EBADMSG;
}

void state_clear(struct state *st)
{
	free(st->streams);
	free(st->storage);
	free(st->payload);
	*st = (struct state){ 0 };
}

int state_file_new(uint32_t seq, size_t payload_len, uint64_t generation, struct state_file *ret)
{
	uint64_t slot = 64 * 1024;
	int fd;

	while (slot < sizeof(struct slot_header) + payload_len && slot < STATE_SLOT_MAX)
		slot *= 2;
	if (slot < sizeof(struct slot_header) + payload_len)
		return -EFBIG;
	fd = memfd_create("ksalloc:state", MFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (ftruncate(fd, (off_t)(2 * slot)) < 0) {
		int r = -errno;

		close(fd);
		return r;
	}
	*ret = (struct state_file){
		.fd = fd, .seq = seq, .slot_bytes = slot, .generation = generation
	};
	return 0;
}

int state_file_write(struct state_file *f, const void *payload, size_t len)
{
	struct slot_header h = {
		.magic = STATE_MAGIC,
		.version = STATE_VERSION,
		.generation = f->generation + 1,
		.payload_len = len,
	};
	off_t at = (off_t)((h.generation % 2) * f->slot_bytes);

	if (sizeof(h) + len > f->slot_bytes)
		return -ENOSPC;
	h.checksum = checksum(&h, payload);
	/* The payload first, the header last: a crash in between leaves a bad checksum. */
	if (pwrite(f->fd, payload, len, at + (off_t)sizeof(h)) != (ssize_t)len ||
	    pwrite(f->fd, &h, sizeof(h), at) != (ssize_t)sizeof(h))
		return -EIO;
	f->generation = h.generation;
	return 0;
}

/* Reads slot @i into *ret_payload if it holds a valid image. */
static int read_slot(int fd, uint64_t slot_bytes, unsigned i, uint8_t **ret_payload,
		     struct slot_header *ret_header)
{
	struct slot_header h;
	uint8_t *payload;
	off_t at = (off_t)(i * slot_bytes);

	if (pread(fd, &h, sizeof(h), at) != (ssize_t)sizeof(h) || h.magic != STATE_MAGIC ||
	    h.version < STATE_VERSION_MIN || h.version > STATE_VERSION ||
	    h.payload_len > slot_bytes - sizeof(h))
		return -EBADMSG;
	payload = malloc(h.payload_len ? h.payload_len : 1);
	if (!payload)
		return -ENOMEM;
	if (pread(fd, payload, h.payload_len, at + (off_t)sizeof(h)) != (ssize_t)h.payload_len ||
	    checksum(&h, payload) != h.checksum) {
		free(payload);
		return -EBADMSG;
	}
	*ret_payload = payload;
	*ret_header = h;
	return 0;
}

int state_file_read(int fd, uint8_t **ret_payload, size_t *ret_len, uint32_t *ret_version,
		    uint64_t *ret_generation, const char **ret_reason)
{
	struct slot_header h[2];
	uint8_t *payload[2] = { NULL, NULL };
	struct stat st;
	int best = -1;

	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    st.st_size < (off_t)(2 * sizeof(struct slot_header)) || st.st_size % 2 ||
	    (uint64_t)st.st_size > 2 * STATE_SLOT_MAX) {
		*ret_reason = "not a file of two state slots";
		return -EBADMSG;
	}
	for (unsigned i = 0; i < 2; i++)
		if (read_slot(fd, (uint64_t)st.st_size / 2, i, &payload[i], &h[i]) == 0 &&
		    (best < 0 || h[i].generation > h[best].generation))
			best = (int)i;
	if (best < 0) {
		*ret_reason = "neither slot holds an image with a good checksum";
		return -EBADMSG;
	}
	free(payload[!best]);
	*ret_payload = payload[best];
	*ret_len = h[best].payload_len;
	*ret_version = h[best].version;
	*ret_generation = h[best].generation;
	return 0;
}

void state_file_close(struct state_file *f)
{
	if (f->fd >= 0)
		close(f->fd);
	f->fd = -1;
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "daemon/reload.h"

#include <errno.h>
#include <string.h>

#include "daemon/util/log.h"

static const struct pool_config *config_pool(const struct daemon_config *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->n_pools; i++)
		if (strcmp(cfg->pools[i].name, name) == 0)
			return &cfg->pools[i];
	return NULL;
}

static int add_pool(struct storage *storage, const struct daemon_config *cfg,
		    const struct pool_config *pc, const char *path)
{
	struct backend_error why;
	struct pool *p;
	int r = storage_add(storage,
			    &(struct pool_options){
				    .name = pc->name,
				    .framing = pc->framing,
				    .backend = pc->backend,
				    .n_slots = cfg->max_pool_sessions,
				    .persistent = true,
				    .from_config = true,
				    .locked = pc->locked,
				    .access = pc->access,
				    .error = &why,
			    },
			    &p);

	if (r == -ENODEV && pc->optional) {
		log_warning("%s:%u: [pool %s]: backend %s is missing (%s): the pool is optional, "
			    "so the daemon runs without it",
			    path, pc->line, pc->name, pc->backend, why.message);
		return 0;
	}
	if (r < 0) {
		log_error("%s:%u: [pool %s]: cannot create the pool on backend %s: %s%s", path,
			  pc->line, pc->name, pc->backend, why.message,
			  r == -ENODEV ? " (mark it \"optional = yes\" to start without it)" : "");
		return r;
	}
	log_info("pool %s: %u frames of %u bytes, alignment %u, %s%s, %llu bytes", p->name,
		 p->framing.frames, p->framing.frame_size, p->framing.file_alignment + 1,
		 p->backend.name, p->locked ? " (locked)" : "",
		 (unsigned long long)p->layout.size_bytes);
	return 0;
}

/* Whether @p was made as @pc asks: "device" is whichever hardware backend it found. */
static bool same_backend(const struct pool *p, const struct pool_config *pc)
{
	if (strcmp(pc->backend, BACKEND_DEVICE) == 0)
		return backend_has_dmabuf_frames(&p->backend) && p->locked == pc->locked;
	return strcmp(p->backend.name, pc->backend) == 0 && p->locked == pc->locked;
}

/* A pool of the running config, as @pc now describes it. */
static void update_pool(struct pool *p, const struct pool_config *pc, const char *path)
{
	const struct framing *f = &pc->framing;

	if (p->removing) {
		p->removing = false;
		log_info("pool %s: back in the config: it stays", p->name);
	}
	if (!pool_has_framing(p, f) || !same_backend(p, pc)) {
		log_warning("%s:%u: [pool %s]: framing, backend or lock changed (now %u frames of "
			    "%u bytes, alignment %u, %s%s; the config asks %u of %u, alignment %u, "
			    "%s%s): refused, the pool keeps running unchanged; remove it from the "
			    "config, reload, then add it back to change it",
			    path, pc->line, p->name, p->framing.frames, p->framing.frame_size,
			    p->framing.file_alignment + 1, p->backend.name,
			    p->locked ? ", locked" : "", f->frames, f->frame_size,
			    f->file_alignment + 1, pc->backend, pc->locked ? ", locked" : "");
	}
	if (memcmp(&p->access, &pc->access, sizeof(p->access)) != 0) {
		char before[8], after[8];

		log_info("pool %s: access now owner %u, group %u, mode %s (was %u, %u, %s)",
			 p->name, (unsigned)pc->access.owner, (unsigned)pc->access.group,
			 access_mode_string(pc->access.mode, after), (unsigned)p->access.owner,
			 (unsigned)p->access.group, access_mode_string(p->access.mode, before));
		p->access = pc->access;
	}
}

unsigned reload_pools(struct rpc *rpc, struct storage *storage, const struct daemon_config *cfg,
		      const char *path)
{
	unsigned failures = 0;
	struct pool *p;
	uint32_t id = 0;

	/* Pools that left the config first: their names may come back below as new pools. */
	while ((p = storage_next(storage, &id))) {
		if (!p->from_config || p->removing || config_pool(cfg, p->name))
			continue;
		log_info("pool %s: no longer in the config: it takes no new opens and goes once "
			 "no frame is held",
			 p->name);
		rpc_pool_remove(rpc, p);
	}

	for (size_t i = 0; i < cfg->n_pools; i++) {
		const struct pool_config *pc = &cfg->pools[i];

		p = storage_find(storage, pc->name);
		if (!p)
			failures += add_pool(storage, cfg, pc, path) < 0;
		else if (!p->from_config)
			log_warning(
				"%s:%u: [pool %s]: a client created a pool of that name; the "
				"config's is created once that one is gone and the daemon reloads",
				path, pc->line, pc->name);
		else
			update_pool(p, pc, path);
	}
	return failures;
}

static const struct stream_config *config_stream(const struct daemon_config *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->n_streams; i++)
		if (strcmp(cfg->streams[i].name, name) == 0)
			return &cfg->streams[i];
	return NULL;
}

void reload_streams(struct storage *storage, const struct daemon_config *cfg, const char *path)
{
	struct stream *st, *next;

	/* Streams that left the config stay while they are used, as created ones do. */
	list_for_each_entry_safe(st, next, storage_streams(storage), link) {
		if (!st->from_config || config_stream(cfg, st->name))
			continue;
		st->from_config = false;
		log_info("stream %s: no longer in the config: it goes once nobody uses it",
			 st->name);
		if (stream_unused(st))
			storage_remove_stream(storage, st);
	}
	for (size_t i = 0; i < cfg->n_streams; i++) {
		const struct stream_config *sc = &cfg->streams[i];
		struct pool *p = storage_find(storage, sc->pool);
		int r;

		st = storage_find_stream(storage, sc->name);
		if (st) {
			if (st->pool != p)
				log_warning("%s:%u: [stream %s]: it runs on pool %s, not %s; "
					    "refused until nobody uses it",
					    path, sc->line, sc->name, st->pool->name, sc->pool);
			st->from_config = true;
			st->access = sc->access;
			continue;
		}
		if (!p || !p->from_config) {
			log_warning("%s:%u: [stream %s]: pool %s is not running: the stream is "
				    "declared once it is",
				    path, sc->line, sc->name, sc->pool);
			continue;
		}
		r = storage_add_stream(storage, sc->name, p, &sc->access, true, &st);
		if (r < 0) {
			log_error("%s:%u: [stream %s]: cannot create it on pool %s: %s", path,
				  sc->line, sc->name, sc->pool, strerror(-r));
			continue;
		}
		log_info("stream %s: on pool %s, waiting for its producer", st->name, p->name);
	}
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Bringing the pools in line with a config, at start and on SIGHUP: pools
 * new to the config are created; pools gone from it take no new opens and go
 * once no frame is held; a pool whose framing or backend changed is refused
 * with a log line and keeps running unchanged (it is never changed under its
 * clients); owner, group and mode changes apply at once.
 */

#include "daemon/config.h"
#include "daemon/rpc/rpc.h"
#include "daemon/storage/storage.h"

/*
 * Applies @cfg (loaded from @path) to @storage. Every pool that cannot be
 * created is logged with the file and line of its section. Returns the number
 * of such failures (at start, any is fatal; on a reload the rest goes on).
 */
unsigned reload_pools(struct rpc *rpc, struct storage *storage, const struct daemon_config *cfg,
		      const char *path);

/*
 * Declares the streams of @cfg on their pools (after reload_pools()): new
 * ones wait for a producer; existing ones take the config's access; ones
 * that left the config go once nobody uses them. Logs what it cannot do.
 */
void reload_streams(struct storage *storage, const struct daemon_config *cfg, const char *path);

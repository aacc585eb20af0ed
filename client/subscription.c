/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Subscriptions: a connection of their own (client.h) that asks the daemon for events once
 * and from then on only receives, without blocking, when the application's loop sees its fd
 * readable; each event is translated into a struct ksalloc_event.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ksalloc/ksalloc.h>

#include "client/client.h"
#include "client/convert.h"
#include "common/macro.h"
#include "proto/protocol.h"

struct ksalloc_subscription {
	struct ksalloc_client *client; /* a connection of its own */
};

int ksalloc_subscription_open(const struct ksalloc_client_options *client_opts,
			      const struct ksalloc_subscription_options *opts,
			      struct ksalloc_subscription **ret_subscription)
{
	Ksalloc__Request req = KSALLOC__REQUEST__INIT;
	Ksalloc__SubscribeRequest sub = KSALLOC__SUBSCRIBE_REQUEST__INIT;
	struct ksalloc_subscription *s;
	struct ksalloc_client *c;
	Ksalloc__Reply *reply;
	int r;

	if (opts && opts->pool && strlen(opts->pool) >= KSALLOC_POOL_NAME_MAX) {
		client_set_open_error("pool name is longer than %d bytes",
				      KSALLOC_POOL_NAME_MAX - 1);
		return -EINVAL;
	}
	r = ksalloc_client_open(client_opts, &c);
	if (r < 0)
		return r;
	sub.name = (char *)(opts && opts->pool ? opts->pool : "");
	sub.interval_ms = opts ? opts->interval_ms : 0;
	sub.hold_threshold_ms = opts ? opts->hold_threshold_ms : 0;
	/* Always: a program built before streams skips them (subscription_read()). */
	sub.streams = true;
	req.body_case = KSALLOC__REQUEST__BODY_SUBSCRIBE;
	req.subscribe = &sub;
	pthread_mutex_lock(&c->lock);
	r = client_call(c, &req, KSALLOC__REPLY__BODY_SUBSCRIBE, &reply, NULL);
	/* Events are read when the application's loop says they are there. */
	if (r == 0)
		r = client_set_nonblocking(c);
	pthread_mutex_unlock(&c->lock);
	s = r == 0 ? calloc(1, sizeof(*s)) : NULL;
	if (!s) {
		if (r == 0)
			r = -ENOMEM;
		client_set_open_error("%s",
				      r == -ENOMEM && !c->error[0] ? "out of memory" : c->error);
		ksalloc_client_close(c);
		return r;
	}
	s->client = c;
	*ret_subscription = s;
	return 0;
}

int ksalloc_subscription_get_fd(const struct ksalloc_subscription *s)
{
	return s->client->fd;
}

const char *ksalloc_subscription_error(const struct ksalloc_subscription *s)
{
	return s->client->error;
}

static const enum ksalloc_event_kind event_kinds[] = {
	[KSALLOC__EVENT__KIND__STATUS] = KSALLOC_EVENT_STATUS,
	[KSALLOC__EVENT__KIND__DRY] = KSALLOC_EVENT_DRY,
	[KSALLOC__EVENT__KIND__HELD_TOO_LONG] = KSALLOC_EVENT_HELD_TOO_LONG,
	[KSALLOC__EVENT__KIND__RECLAIMED] = KSALLOC_EVENT_RECLAIMED,
	[KSALLOC__EVENT__KIND__GONE] = KSALLOC_EVENT_GONE,
	[KSALLOC__EVENT__KIND__STREAM_PRODUCER_GONE] = KSALLOC_EVENT_STREAM_PRODUCER_GONE,
	[KSALLOC__EVENT__KIND__STREAM_CONSUMER_GONE] = KSALLOC_EVENT_STREAM_CONSUMER_GONE,
	[KSALLOC__EVENT__KIND__STREAM_DROPS] = KSALLOC_EVENT_STREAM_DROPS,
};

/*
 * The next event into the first @size bytes of *@ret_event; without @streams,
 * the STREAM_* events are read and skipped.
 */
static int subscription_read(struct ksalloc_subscription *s, struct ksalloc_event *ret_event,
			     bool streams, size_t size)
{
	struct ksalloc_client *c = s->client;

	for (;;) {
		const Ksalloc__Event *w;
		struct ksalloc_event e = { 0 };
		Ksalloc__Reply *reply;
		int r;

		r = client_receive(c, &reply);
		if (r < 0)
			return r;
		/* What is not an event (a late reply) is no business of the reader's. */
		if (!reply || reply->body_case != KSALLOC__REPLY__BODY_EVENT ||
		    (unsigned)reply->event->kind >= ELEMENTSOF(event_kinds))
			continue;
		w = reply->event;
		e.kind = event_kinds[w->kind];
		/* Kinds after GONE are all unknown to a program built before them. */
		if (!streams && e.kind >= KSALLOC_EVENT_STREAM_PRODUCER_GONE)
			continue;
		snprintf(e.pool, sizeof(e.pool), "%s", w->pool);
		e.time_ms = w->time_ms;
		e.frames = w->frames;
		e.frames_total = w->frames_total;
		e.size_bytes = w->size_bytes;
		snprintf(e.stream, sizeof(e.stream), "%s", w->stream);
		if (w->holder)
			holder_from_wire(w->holder, &e.holder);
		if (w->status && stats_from_wire(w->status, &e.stats) < 0) {
			client_set_error(c, "out of memory");
			return -ENOMEM;
		}
		memcpy(ret_event, &e, size);
		return 0;
	}
}

/*
 * ksalloc_subscription_read() is versioned, as glibc versions what changed
 * its structs: programs built against struct ksalloc_event without its stream
 * field (LIBKSALLOC_1) are linked to one that writes the fields before it
 * and no STREAM_* event, whose kinds they do not know; those built since
 * (LIBKSALLOC_1.1, the default) to one that returns all. Both are exported
 * under their version only (libksalloc.sym hides the names below).
 */
KSALLOC_EXPORT int ksalloc_subscription_read_1(struct ksalloc_subscription *s,
					       struct ksalloc_event *ret_event);
KSALLOC_EXPORT int ksalloc_subscription_read_1_1(struct ksalloc_subscription *s,
						 struct ksalloc_event *ret_event);

KSALLOC_SYMVER(ksalloc_subscription_read_1, "ksalloc_subscription_read@LIBKSALLOC_1")
int ksalloc_subscription_read_1(struct ksalloc_subscription *s, struct ksalloc_event *ret_event)
{
	return subscription_read(s, ret_event, false, offsetof(struct ksalloc_event, stream));
}

KSALLOC_SYMVER(ksalloc_subscription_read_1_1, "ksalloc_subscription_read@@LIBKSALLOC_1.1")
int ksalloc_subscription_read_1_1(struct ksalloc_subscription *s, struct ksalloc_event *ret_event)
{
	return subscription_read(s, ret_event, true, sizeof(*ret_event));
}

void ksalloc_event_clear(struct ksalloc_event *e)
{
	free(e->stats.holders);
	e->stats.holders = NULL;
	e->stats.n_holders = 0;
}

struct ksalloc_subscription *ksalloc_subscription_close(struct ksalloc_subscription *s)
{
	if (!s)
		return NULL;
	ksalloc_client_close(s->client);
	free(s);
	return NULL;
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* ksallocctl's live views, from subscriptions (ksalloc_subscription_open()). */

#include <stdbool.h>
#include <stdint.h>

#include <ksalloc/ksalloc.h>

/*
 * `ksallocctl watch [NAME]`: prints the events of pool NAME (every pool without
 * one) a line each, as they come, until the daemon goes (1) or SIGINT/SIGTERM
 * (0). @json: one JSON object a line.
 */
int ctl_watch(const struct ksalloc_client_options *opts, const char *pool, bool json,
	      uint32_t interval_ms, uint32_t hold_ms);

/*
 * `ksallocctl top`: a live full-screen view of every pool and who holds its
 * frames, until q, SIGINT or SIGTERM. The terminal is restored on every exit.
 * @json: what it would show, once, as JSON.
 */
int ctl_top(const struct ksalloc_client_options *opts, uint32_t interval_ms, bool json);

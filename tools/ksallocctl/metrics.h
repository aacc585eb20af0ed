/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * ksallocctl's commands that read the daemon's counters once, over a client
 * main() has opened. Each returns the process's exit status: 0, or 1 when the
 * daemon refused or went away (a line on stderr says what failed) or stdout
 * could not be written.
 */

#include <stdbool.h>

#include <ksalloc/ksalloc.h>

/*
 * `ksallocctl metrics`: the daemon's, every visible pool's, every holder's,
 * every visible stream's and consumer's, and every other session's numbers in
 * the Prometheus text exposition format (0.0.4), ending with "# EOF"; @json:
 * the same numbers as one JSON object.
 */
int ctl_metrics(struct ksalloc_client *c, bool json);

/*
 * `ksallocctl advise`: for each visible pool, the frames its recorded peak
 * needed plus @margin_percent (0 to 1000), as a ksallocd.conf snippet with a
 * comment per pool; @json: an array of one object per pool.
 */
int ctl_advise(struct ksalloc_client *c, bool json, unsigned margin_percent);

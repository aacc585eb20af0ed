/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The Prometheus text exposition format (0.0.4) as ksallocctl metrics writes
 * it: a family's HELP, TYPE and UNIT lines, samples with escaped label values,
 * and numbers written exactly (see metrics.c for why 0.0.4).
 */

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct ctl_prom_family {
	const char *name;
	const char *type; /* "gauge" or "counter" */
	const char *unit; /* "bytes", "seconds": the name ends with it; or NULL */
	const char *help; /* no backslash, no newline: they would need escaping */
};

struct ctl_prom_label {
	const char *name;
	const char *value;
};

/* The "# HELP", "# TYPE" and (with a unit) "# UNIT" lines of @f. */
void ctl_prom_family(FILE *out, const struct ctl_prom_family *f);

/* One sample of @f: its labels' values escaped, and @value as it is. */
void ctl_prom_sample(FILE *out, const struct ctl_prom_family *f,
		     const struct ctl_prom_label *labels, size_t n_labels, const char *value);

/* @v in decimal. */
void ctl_prom_u64(uint64_t v, char *buf, size_t size);

/* Milliseconds as seconds, exactly: "3.612". */
void ctl_prom_ms_as_seconds(uint64_t ms, char *buf, size_t size);

/* Nanoseconds as seconds, exactly: "0.000012500". */
void ctl_prom_ns_as_seconds(uint64_t ns, char *buf, size_t size);

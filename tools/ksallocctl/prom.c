/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The Prometheus text exposition format, as ksallocctl metrics writes it. */
#include "tools/ksallocctl/prom.h"

#include <inttypes.h>

void ctl_prom_family(FILE *out, const struct ctl_prom_family *f)
{
	fprintf(out, "# HELP %s %s\n# TYPE %s %s\n", f->name, f->help, f->name, f->type);
	if (f->unit)
		fprintf(out, "# UNIT %s %s\n", f->name, f->unit);
}

/*
 * A label value, escaped as the format wants: backslash, double quote and
 * newline. The daemon sends printable ASCII; any other byte it might send
 * becomes '?', so that the output stays valid UTF-8 (a parser rejects the
 * whole file otherwise).
 */
static void put_label_value(FILE *out, const char *v)
{
	for (; *v; v++) {
		unsigned char ch = (unsigned char)*v;

		if (ch == '\\' || ch == '"')
			fprintf(out, "\\%c", ch);
		else if (ch == '\n')
			fputs("\\n", out);
		else
			putc(ch >= 0x20 && ch < 0x7f ? ch : '?', out);
	}
}

void ctl_prom_sample(FILE *out, const struct ctl_prom_family *f,
		     const struct ctl_prom_label *labels, size_t n_labels, const char *value)
{
	fputs(f->name, out);
	for (size_t i = 0; i < n_labels; i++) {
		fprintf(out, "%s%s=\"", i ? "," : "{", labels[i].name);
		put_label_value(out, labels[i].value);
		putc('"', out);
	}
	fprintf(out, "%s %s\n", n_labels ? "}" : "", value);
}

void ctl_prom_u64(uint64_t v, char *buf, size_t size)
{
	snprintf(buf, size, "%" PRIu64, v);
}

void ctl_prom_ms_as_seconds(uint64_t ms, char *buf, size_t size)
{
	snprintf(buf, size, "%" PRIu64 ".%03u", ms / 1000, (unsigned)(ms % 1000));
}

void ctl_prom_ns_as_seconds(uint64_t ns, char *buf, size_t size)
{
	snprintf(buf, size, "%" PRIu64 ".%09u", ns / 1000000000, (unsigned)(ns % 1000000000));
}

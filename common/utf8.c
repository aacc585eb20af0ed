/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "common/utf8.h"

#include <stdint.h>
#include <stdio.h>

size_t utf8_sequence_length(const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;
	uint32_t cp;
	size_t n;

	if (len == 0)
		return 0;
	if (u[0] < 0x80)
		return 1;
	if (u[0] >= 0xc2 && u[0] <= 0xdf)
		n = 2, cp = u[0] & 0x1f;
	else if (u[0] >= 0xe0 && u[0] <= 0xef)
		n = 3, cp = u[0] & 0x0f;
	else if (u[0] >= 0xf0 && u[0] <= 0xf4)
		n = 4, cp = u[0] & 0x07;
	else
		return 0; /* a continuation byte, 0xc0/0xc1 (always overlong) or past 0xf4 */
	if (len < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((u[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (u[i] & 0x3f);
	}
	/* Overlong three- and four-byte forms, UTF-16 surrogates, beyond Unicode. */
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || (cp >= 0xd800 && cp <= 0xdfff) ||
	    cp > 0x10ffff)
		return 0;
	return n;
}

/* Whether the valid sequence of @n bytes at @s is a control character: C0, DEL or C1. */
static bool is_control(const unsigned char *s, size_t n)
{
	if (n == 1)
		return s[0] < 0x20 || s[0] == 0x7f;
	return n == 2 && s[0] == 0xc2 && s[1] < 0xa0; /* U+0080 .. U+009F */
}

bool utf8_is_clean(const char *s, size_t len)
{
	for (size_t i = 0; i < len;) {
		size_t n = utf8_sequence_length(s + i, len - i);

		if (n == 0 || is_control((const unsigned char *)s + i, n))
			return false;
		i += n;
	}
	return true;
}

size_t utf8_escape(char *dst, size_t size, const char *src, size_t src_len)
{
	size_t in = 0, out = 0;

	while (in < src_len) {
		size_t n = utf8_sequence_length(src + in, src_len - in);

		if (n > 0 && !is_control((const unsigned char *)src + in, n)) {
			if (out + n >= size)
				break;
			for (size_t i = 0; i < n; i++)
				dst[out++] = src[in + i];
			in += n;
		} else {
			if (out + 4 >= size)
				break;
			snprintf(dst + out, 5, "\\x%02x", (unsigned char)src[in]);
			out += 4;
			in++;
		}
	}
	dst[out] = '\0';
	return in;
}

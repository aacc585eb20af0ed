/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Text from a peer on its way into a message for another: protobuf's string
 * fields must be valid UTF-8 (a strict decoder, Google's, refuses a whole
 * reply that is not), and a log line or a terminal must not be driven by
 * control characters. These keep what is valid and printable, escape the
 * rest as \xNN, and cut only between characters.
 */

#include <stdbool.h>
#include <stddef.h>

/*
 * The length of the valid UTF-8 sequence (1 to 4 bytes) that starts at @s,
 * of which @len bytes are there; 0 when it is not one (a stray continuation
 * byte, an overlong form, a surrogate, past U+10FFFF, or cut short).
 */
size_t utf8_sequence_length(const char *s, size_t len);

/* Whether @len bytes at @s are valid UTF-8 with no control characters (C0, DEL, C1). */
bool utf8_is_clean(const char *s, size_t len);

/*
 * Copies @src (@src_len bytes) into @dst (@size bytes, @size >= 1) as clean
 * text: valid printable UTF-8 is kept, every other byte becomes "\xNN", and
 * what does not fit is left out whole (never half a character or half an
 * escape). Always NUL-terminates. Returns the number of bytes of @src it
 * took; less than @src_len means it was cut.
 */
size_t utf8_escape(char *dst, size_t size, const char *src, size_t src_len);

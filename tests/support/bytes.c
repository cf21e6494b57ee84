/* Growing byte buffers for building synthetic save images in tests. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/support/support.h"

void support_bytes_put(struct support_bytes *o, const void *p, size_t n)
{
	if (!n)
		return;
	if (o->n + n > o->cap) {
		size_t cap = (o->n + n) * 2;
		uint8_t *b = realloc(o->b, cap);
		if (!b) {
			fputs("support_bytes: out of memory\n", stderr);
			abort();
		}
		o->b = b;
		o->cap = cap;
	}
	memcpy(o->b + o->n, p, n);
	o->n += n;
}

void support_bytes_le32(struct support_bytes *o, uint32_t v)
{
	const uint8_t b[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
	support_bytes_put(o, b, 4);
}

void support_bytes_be32(struct support_bytes *o, uint32_t v)
{
	const uint8_t b[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
	support_bytes_put(o, b, 4);
}

void support_bytes_zeros(struct support_bytes *o, size_t n)
{
	static const uint8_t z[64];
	while (n) {
		size_t k = n < sizeof(z) ? n : sizeof(z);
		support_bytes_put(o, z, k);
		n -= k;
	}
}

void support_bytes_rec(struct support_bytes *o, uint32_t type, const void *body, size_t len)
{
	support_bytes_le32(o, type);
	support_bytes_le32(o, (uint32_t)len);
	support_bytes_put(o, body, len);
	support_bytes_zeros(o, (8 - len % 8) % 8);
}

void support_bytes_free(struct support_bytes *o)
{
	free(o->b);
	*o = (struct support_bytes){0};
}

/* qopts.c — QEMU option strings (see qopts.h). */
#include "dm/qopts.h"

#include <stdlib.h>
#include <string.h>

/* Copy a value up to a single ',' (",," -> ','), NUL-terminated. */
static const char *copy_value(const char *p, char **out)
{
	char *o = *out;

	while (*p && (*p != ',' || p[1] == ',')) {
		*o++ = *p;
		p += *p == ',' ? 2 : 1;
	}
	*o++ = '\0';
	*out = o;
	return p;
}

int qopts_split(struct qopts *q, const char *s, const char *implied)
{
	size_t cap = 1, len = strlen(s);
	const char *p = s;
	char *out;

	for (const char *c = s; *c; c++)
		cap += *c == ',';
	q->n = 0;
	q->buf = malloc(len + 2 * cap + 1);
	q->item = calloc(cap, sizeof(*q->item));
	if (!q->buf || !q->item) {
		free(q->buf);
		free(q->item);
		q->buf = NULL;
		q->item = NULL;
		return -1;
	}
	out = q->buf;
	while (*p) {
		struct qopt *it = &q->item[q->n++];
		size_t klen = strcspn(p, "=,");

		if (p[klen] != '=' && q->n == 1 && implied) {
			it->key = implied;
			it->val = out;
			p = copy_value(p, &out);
		} else {
			memcpy(out, p, klen);
			out[klen] = '\0';
			it->key = out;
			out += klen + 1;
			p += klen;
			if (*p == '=') {
				it->val = out;
				p = copy_value(p + 1, &out);
			}
		}
		if (*p == ',')
			p++;
	}
	return 0;
}

void qopts_free(struct qopts *q)
{
	free(q->buf);
	free(q->item);
}

/* The value of `key` (last one wins, as in QEMU), or NULL. */
const struct qopt *qopts_get(const struct qopts *q, const char *key)
{
	const struct qopt *found = NULL;

	for (size_t i = 0; i < q->n; i++)
		if (strcmp(q->item[i].key, key) == 0)
			found = &q->item[i];
	return found;
}

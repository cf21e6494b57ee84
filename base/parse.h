/*
 * parse.h — whole-string number parsers shared by every front end (command
 * line, qtest, privileges): no leading space, no trailing bytes, no
 * overflow.
 */
#ifndef RTCDM_BASE_PARSE_H
#define RTCDM_BASE_PARSE_H

#include <stdint.h>

/* Base 0 (0x.. accepted), no sign.  0 or -1. */
int dm_parse_u64(const char *s, uint64_t *out);
/* Base 10, optional sign.  0 or -1. */
int dm_parse_i64(const char *s, int64_t *out);

#endif

/*
 * ms_codes.h - text codes in arrays sorted by code (private to io): the
 * lookups of the reference files (ms_refs.c, where these live) and of the
 * knowledge base (ms_knowledge.c).
 */
#ifndef MS_CODES_H
#define MS_CODES_H

#include <stddef.h>
#include <stdint.h>

/* Compare text of length len with NUL-terminated s, like strcmp. */
int ms_code_cmp(const char *text, size_t len, const char *s);

/* The index of the entry whose code is text (len bytes), or -1, in an array
 * sorted by code (strcmp): n entries stride bytes apart from base, each with
 * its code (a char *) off bytes in (binary search). */
int32_t ms_code_find(const void *base, size_t n, size_t stride, size_t off, const char *text, size_t len);

#endif

/* Strict number and value parsing: whole string, no sign surprises, no overflow. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

int gx_parse_u64(const char *s, uint64_t *ret);
/* Integer with an optional K, M or G suffix (powers of 1024). */
int gx_parse_size(const char *s, uint64_t *ret);
int gx_parse_bool(const char *s, bool *ret);
/* A non-negative decimal with at most 3 fractional digits, returned in thousandths. */
int gx_parse_milli(const char *s, uint64_t *ret);
int gx_parse_fd(const char *s, int *ret);

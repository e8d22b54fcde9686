#ifndef CMONGOC_SHIM_H
#define CMONGOC_SHIM_H

#include <mongoc/mongoc.h>

// libbson declares bson_t and bson_iter_t 128-byte aligned, more than Swift can lay out, so Swift imports them as
// opaque pointers; these name their size and alignment for storage allocated on the Swift side.
static inline size_t cmongoc_bson_size(void) { return sizeof(bson_t); }
static inline size_t cmongoc_bson_alignment(void) { return _Alignof(bson_t); }
static inline size_t cmongoc_bson_iter_size(void) { return sizeof(bson_iter_t); }
static inline size_t cmongoc_bson_iter_alignment(void) { return _Alignof(bson_iter_t); }

#endif

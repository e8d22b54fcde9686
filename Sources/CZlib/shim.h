#ifndef CZLIB_SHIM_H
#define CZLIB_SHIM_H

#include <zlib.h>

// deflateInit2 and inflateInit2 are macros that pass the library version and struct size, which Swift cannot
// call; these wrappers give them a fixed signature. They add no behaviour of their own.

static inline int czlib_deflate_init2(z_streamp stream, int level, int method, int window_bits, int mem_level,
                                      int strategy) {
    return deflateInit2(stream, level, method, window_bits, mem_level, strategy);
}

static inline int czlib_inflate_init2(z_streamp stream, int window_bits) {
    return inflateInit2(stream, window_bits);
}

#endif

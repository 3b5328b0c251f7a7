/* The one shape of the shim's path wrappers: look the path up; on a match answer from the registered entry; else hand
 * the call, arguments unchanged, to the next definition of the same name (glibc).
 *
 *   SL_WRAP(ret, name, (params), lookup, on_match, on_miss)
 *
 * defines the exported function `ret name(params)`: lookup is evaluated into `e` (NULL: not registered); on_match is
 * an expression of e and the parameters, evaluated with a use of e held (table.c), on_miss one of the parameters,
 * most often SL_NEXT(name)(arguments). An entry taken back between the lookup and the use is looked up again: the
 * path may stand registered anew, or on disk. The loop ends, since each turn needs another registration.
 *
 * One SL_WRAP per symbol, directly or through a file's family macro, so each .c file lists what it exports, one line
 * a name. A wrapper whose logic does not fit this shape is written out (dl.c). */
#ifndef SNAPLOADER_WRAP_H
#define SNAPLOADER_WRAP_H

#include "shim.h"

#define SL_WRAP(ret, name, params, lookup, on_match, on_miss) \
    SL_EXPORT ret name params                                 \
    {                                                         \
        const struct sl_entry *e;                             \
        while ((e = (lookup)) != NULL) {                      \
            if (sl_use_begin(e)) {                            \
                ret r_ = (on_match);                          \
                sl_use_end();                                 \
                return r_;                                    \
            }                                                 \
        }                                                     \
        return on_miss;                                       \
    }

/* The next definition of a wrapped function, typed as the wrapper itself: no typedef can disagree with it. */
#define SL_NEXT(name) SL_REAL(__typeof__(&name), name)

/* The next definition called with args, or fallback where the C library has none (an older glibc). The pointer is
 * read once: where it is missing, every read is a dlsym. */
#define SL_NEXT_OR(name, args, fallback)         \
    ({                                           \
        __typeof__(&name) next_ = SL_NEXT(name); \
        next_ != NULL ? next_ args : (fallback); \
    })

#endif

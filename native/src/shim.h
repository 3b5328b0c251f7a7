/* Internal declarations of the SnapLoader preload shim. Not installed. */
#ifndef SNAPLOADER_SHIM_H
#define SNAPLOADER_SHIM_H

#define _GNU_SOURCE 1
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "snaploader_preload.h"
#include "symver.h"

#define SL_EXPORT __attribute__((visibility("default")))
#define SL_HIDDEN __attribute__((visibility("hidden")))

struct sl_library;

/* A registered file or directory (or, for an alias, the file it names). Fields are written once before
 * publication, except `removed`, which snaploader_unregister sets before it closes `fd`, and `library`,
 * published once by snaploader_register_library. */
struct sl_entry {
    const char *key;        /* published last (release store); NULL = free slot */
    size_t key_len;
    unsigned long long hash;
    int fd;                 /* the shim's own CLOEXEC duplicate of the memfd */
    const struct sl_entry *target; /* aliases: the file entry; files: themselves */
    int removed;            /* files only; set by snaploader_unregister, never cleared */
    int directory;          /* registered by snaploader_register_directory: a path with a trailing slash matches */
    char proc_path[32];     /* "/proc/self/fd/<fd>", stable storage so dlopen can tail-call with it */
    const struct sl_library *library; /* files declared libraries: what dlopen loads first (acquire/release) */
};

/* What snaploader_register_library declared: arena storage, never changed after publication. */
struct sl_library {
    const char *load_path;  /* what the real dlopen gets: a link in the folder of links, or the proc path */
    unsigned int needed_count;
    const struct sl_entry *needed[]; /* file entries */
};

#define SL_MAX_NEEDED 64

/* table.c */
/* Looks up path (relative paths against dirfd, AT_FDCWD for the cwd). NULL when not registered, on a NULL
 * path, when the table is empty, or for a trailing slash after a file's path. Allocation-free and lock-free.
 * Preserves errno. */
SL_HIDDEN const struct sl_entry *sl_lookup_at(int dirfd, const char *path);
/* Looks up a bare dlopen name (no slash) among the aliases. */
SL_HIDDEN const struct sl_entry *sl_lookup_alias(const char *name);
/* Whether a file entry still stands (not unregistered). */
SL_HIDDEN int sl_is_live(const struct sl_entry *e);
/* Holds a use of e's descriptor (and, inside dlopen, of every entry's): 0, and nothing held, when e was taken back.
 * Every wrapper holds one from its match to its return (SL_WRAP, dlopen, dlmopen), so no descriptor or
 * /proc/self/fd path of an entry reaches the kernel or the real function after its unregister. Lock-free. */
SL_HIDDEN int sl_use_begin(const struct sl_entry *e);
/* Leaves errno as it is: a wrapper ends its use after the call whose errno it returns. */
SL_HIDDEN void sl_use_end(void);
/* The library declaration of a file entry, or NULL. */
SL_HIDDEN const struct sl_library *sl_library_of(const struct sl_entry *e);

/* path.c */
/* Lexically normalises an absolute path into out (size PATH_MAX). Returns the length, or -1 when the
 * result does not fit or the input is not absolute. *trailing_slash tells whether the input ended in '/'. */
SL_HIDDEN long sl_normalize(const char *in, char *out, size_t out_size, int *trailing_slash);
/* Builds the absolute, normalised form of path relative to dirfd into out. -1 when impossible. */
SL_HIDDEN long sl_absolute_at(int dirfd, const char *path, char *out, size_t out_size, int *trailing_slash);

/* real.c: the next definitions, resolved once by a constructor (or lazily on first use). */
SL_HIDDEN void sl_resolve_all(void);
SL_HIDDEN void *sl_real(void **slot, const char *name);
#define SL_REAL_SLOT(name) SL_HIDDEN extern void *sl_real_##name;
#include "real_list.h"
#undef SL_REAL_SLOT
#define SL_REAL(type, name) \
    ((type)sl_real((void **)&sl_real_##name, #name))

/* util.c: raw system calls that bypass every interposed symbol and every versioned glibc entry point. */
SL_HIDDEN int sl_sys_open_entry(const struct sl_entry *e, int flags, int *err);
SL_HIDDEN int sl_sys_fstat(int fd, struct stat *st, int *err);
SL_HIDDEN int sl_entry_stat(const struct sl_entry *e, struct stat *st);
SL_HIDDEN int sl_open_flags_check(int flags);
SL_HIDDEN int sl_fopen_mode_check(const char *mode);
SL_HIDDEN void sl_set_errno(int e);

#endif

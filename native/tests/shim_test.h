/* Shared by the C test files of the shim: checks, the API, the fixture root and its helpers. */
#ifndef SHIM_TEST_H
#define SHIM_TEST_H

#define _GNU_SOURCE 1
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <link.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "snaploader_preload.h"

#ifndef MFD_CLOEXEC
#define MFD_CLOEXEC 0x0001U
#define MFD_ALLOW_SEALING 0x0002U
#endif
#ifndef F_ADD_SEALS
#define F_ADD_SEALS 1033
#define F_SEAL_SEAL 0x0001
#define F_SEAL_SHRINK 0x0002
#define F_SEAL_GROW 0x0004
#define F_SEAL_WRITE 0x0008
#endif
#if defined(__x86_64__)
#define SL_STAT_VER 1 /* _STAT_VER_LINUX */
#else
#define SL_STAT_VER 0 /* _STAT_VER_KERNEL, the only one generic 64-bit ports have */
#endif

#define CHECK(cond)                                                                         \
    do {                                                                                    \
        if (!(cond)) {                                                                      \
            fprintf(stderr, "%s:%d: CHECK failed: %s (errno %d: %s)\n", __FILE__, __LINE__, \
                    #cond, errno, strerror(errno));                                         \
            exit(1);                                                                        \
        }                                                                                   \
    } while (0)
#define CHECK_ERR(expr, bad, err)                                   \
    do {                                                            \
        errno = 0;                                                  \
        CHECK((expr) == (bad));                                     \
        CHECK(errno == (err));                                      \
    } while (0)

typedef int (*abi_fn)(void);
typedef int (*reg_fn)(const char *, int);
typedef int (*alias_fn)(const char *, const char *);
typedef int (*unreg_fn)(const char *);
/* The interposed entry points, called through pointers found by name, so each exported symbol is tested itself. */
typedef int (*open_fn)(const char *, int, ...);
typedef int (*openat_fn)(int, const char *, int, ...);
typedef int (*open2_fn)(const char *, int);
typedef int (*openat2_fn)(int, const char *, int);
typedef FILE *(*fopen_fn)(const char *, const char *);
typedef FILE *(*freopen_fn)(const char *, const char *, FILE *);
typedef int (*stat_fn)(const char *, struct stat *);
typedef int (*fstatat_fn)(int, const char *, struct stat *, int);
typedef int (*xstat_fn)(int, const char *, struct stat *);
typedef int (*fxstatat_fn)(int, int, const char *, struct stat *, int);
typedef int (*statx_fn)(int, const char *, int, unsigned int, struct statx *);
typedef int (*access_fn)(const char *, int);
typedef int (*faccessat_fn)(int, const char *, int, int);
typedef char *(*realpath_fn)(const char *, char *);
typedef char *(*realpath_chk_fn)(const char *, char *, size_t);
typedef char *(*canon_fn)(const char *);
typedef ssize_t (*readlink_fn)(const char *, char *, size_t);
typedef void *(*dlopen_fn)(const char *, int);
extern reg_fn sl_register;
extern alias_fn sl_alias;
extern unreg_fn sl_unregister;
extern abi_fn sl_freeze;

extern char g_root[64];      /* /tmp/snaploader-ctest-XXXXXX, exists; g_root/task exists */
extern char g_path[PATH_MAX]; /* g_root/task/lib.so: registered by setup(), absent from disk */
extern char g_content[3000];
extern int g_count_allocations; /* set: malloc, calloc and realloc count into g_allocations */
extern long g_allocations;

void *sym(const char *name);
void api(void);
int make_memfd(const char *name, const void *data, size_t len, unsigned int seals);
int sealed_memfd(const char *name, const void *data, size_t len);
void pathf(char *out, const char *fmt, ...);
/* Creates the root and registers g_path for a memfd with g_content. */
void setup(void);
void check_fd_content(int fd);
void check_stat(const struct stat *st);
/* Counts this process's memfds named name; *last_fd (if not NULL) gets the last one's number. */
int count_memfds(const char *name, int *last_fd);
/* Counts this process's open descriptors. */
int count_open_fds(void);
/* A sealed memfd holding a copy of file. */
int memfd_of_file(const char *name, const char *file);
int child_check(int argc, char **argv);
/* Reads a stream opened on g_path and checks it holds g_content. */
void check_stream(FILE *f);

/* The cases, one per concern file: table_tests.c, open_tests.c, stat_tests.c, path_tests.c, dl_tests.c. */
void t_preload_detected(void);
void t_not_preloaded(void);
void t_register_rules(void);
void t_alias_rules(void);
void t_unregister(void);
void t_unregister_without_descriptors(void);
void t_unregister_racing(void);
void t_reregister_racing(void);
void t_unregister_in_use(void);
void t_descriptor(void);
void t_freeze(void);
void t_open_family(void);
void t_fortify_open_family(void);
void t_open_rules(void);
void t_fopen_family(void);
void t_stat_new_abi(void);
void t_stat_old_abi(void);
void t_statx(void);
void t_access_family(void);
void t_realpath_family(void);
void t_readlink(void);
void t_normalisation(void);
void t_relative_cwd(void);
void t_relative_dirfd(void);
void t_long_cwd(void);
void t_no_allocation(void);
void t_null_paths(void);
void t_no_basename_fallback(void);
void t_passthrough(void);
void t_concurrency(void);
void t_child_process(void);
void t_dlopen_registered(void);
void t_dlopen_runpath_tailcall(void);
void t_dlopen_needed_first(void);
void t_dlopen_variants(void);
void t_dlopen_failure_leaves_nothing(void);
void t_directory(void);

#endif

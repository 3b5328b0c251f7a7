/*
 * C tests of libsnaploader_preload.so. Run as `shim_tests <case>` with LD_PRELOAD=<shim> (CTest does that);
 * `shim_tests --list` prints the cases. The shim's API is found in the global scope, as the runtime does.
 * Every case works under a fresh /tmp/snaploader-ctest-XXXXXX root whose registered files do NOT exist on
 * disk, so a call that passed through instead of being redirected fails.
 */
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


/* Counts allocations while g_count_allocations is set: the lookup path must allocate nothing. The executable's
 * malloc interposes glibc's (and is what the shim would call), and forwards to glibc's own allocator. */
extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
static int g_count_allocations;
static long g_allocations;
void *malloc(size_t n)
{
    if (__atomic_load_n(&g_count_allocations, __ATOMIC_RELAXED)) {
        __atomic_add_fetch(&g_allocations, 1, __ATOMIC_RELAXED);
    }
    return __libc_malloc(n);
}
void *calloc(size_t n, size_t m)
{
    if (__atomic_load_n(&g_count_allocations, __ATOMIC_RELAXED)) {
        __atomic_add_fetch(&g_allocations, 1, __ATOMIC_RELAXED);
    }
    return __libc_calloc(n, m);
}
void *realloc(void *p, size_t n)
{
    if (__atomic_load_n(&g_count_allocations, __ATOMIC_RELAXED)) {
        __atomic_add_fetch(&g_allocations, 1, __ATOMIC_RELAXED);
    }
    return __libc_realloc(p, n);
}

typedef int (*abi_fn)(void);
typedef int (*reg_fn)(const char *, int);
typedef int (*alias_fn)(const char *, const char *);
typedef int (*unreg_fn)(const char *);
static reg_fn sl_register;
static alias_fn sl_alias;
static unreg_fn sl_unregister;
static abi_fn sl_freeze;

static char g_root[64];      /* /tmp/snaploader-ctest-XXXXXX, exists; g_root/task exists */
static char g_path[PATH_MAX]; /* g_root/task/lib.so: registered by setup(), absent from disk */
static char g_content[3000];

static void *sym(const char *name)
{
    void *p = dlsym(RTLD_DEFAULT, name);
    if (p == NULL) {
        fprintf(stderr, "symbol %s not found\n", name);
        exit(1);
    }
    return p;
}

static void api(void)
{
    sl_register = (reg_fn)sym("snaploader_register");
    sl_alias = (alias_fn)sym("snaploader_register_alias");
    sl_unregister = (unreg_fn)sym("snaploader_unregister");
    sl_freeze = (abi_fn)sym("snaploader_freeze");
}

static int make_memfd(const char *name, const void *data, size_t len, unsigned int seals)
{
    int fd = (int)syscall(SYS_memfd_create, name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
    CHECK(fd >= 0);
    CHECK(write(fd, data, len) == (ssize_t)len);
    if (seals != 0) {
        CHECK(fcntl(fd, F_ADD_SEALS, seals) == 0);
    }
    return fd;
}

static int sealed_memfd(const char *name, const void *data, size_t len)
{
    return make_memfd(name, data, len, F_SEAL_WRITE | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL);
}

static void pathf(char *out, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(out, PATH_MAX, fmt, ap);
    va_end(ap);
    CHECK(n > 0 && n < PATH_MAX);
}

/* Creates the root and registers g_path for a memfd with g_content. */
static void setup(void)
{
    api();
    strcpy(g_root, "/tmp/snaploader-ctest-XXXXXX");
    CHECK(mkdtemp(g_root) != NULL);
    char dir[PATH_MAX];
    pathf(dir, "%s/task", g_root);
    CHECK(mkdir(dir, 0755) == 0);
    pathf(g_path, "%s/task/lib.so", g_root);
    for (size_t i = 0; i < sizeof g_content; i++) {
        g_content[i] = (char)('a' + i % 23);
    }
    int fd = sealed_memfd("sl-test", g_content, sizeof g_content);
    CHECK(sl_register(g_path, fd) == 0);
    CHECK(close(fd) == 0); /* the shim keeps its own duplicate */
}

static void check_fd_content(int fd)
{
    char buf[sizeof g_content + 10];
    size_t got = 0;
    ssize_t r;
    while ((r = read(fd, buf + got, sizeof buf - got)) > 0) {
        got += (size_t)r;
    }
    CHECK(r == 0);
    CHECK(got == sizeof g_content);
    CHECK(memcmp(buf, g_content, got) == 0);
}

static void check_stat(const struct stat *st)
{
    CHECK(S_ISREG(st->st_mode));
    CHECK(st->st_size == (off_t)sizeof g_content);
    CHECK((st->st_mode & 0222) == 0);
}

/* ---------------------------------------------------------------------------------------------------- */

static const char *const k_wrapped[] = {
    "open", "open64", "openat", "openat64", "__open_2", "__open64_2", "__openat_2", "__openat64_2",
    "fopen", "fopen64", "freopen", "freopen64",
    "__xstat", "__xstat64", "__lxstat", "__lxstat64", "__fxstatat", "__fxstatat64",
    "stat", "stat64", "lstat", "lstat64", "fstatat", "fstatat64", "statx",
    "access", "faccessat", "realpath", "__realpath_chk", "canonicalize_file_name", "readlink",
    "dlopen", "dlmopen",
    "snaploader_abi_version", "snaploader_register", "snaploader_register_alias", "snaploader_freeze",
};

static void t_preload_detected(void)
{
    abi_fn v = (abi_fn)dlsym(RTLD_DEFAULT, "snaploader_abi_version");
    CHECK(v != NULL);
    CHECK(v() == SNAPLOADER_ABI_VERSION);
    /* every wrapper is the shim's in the global scope */
    for (size_t i = 0; i < sizeof k_wrapped / sizeof *k_wrapped; i++) {
        Dl_info info;
        void *p = sym(k_wrapped[i]);
        CHECK(dladdr(p, &info) != 0);
        if (strstr(info.dli_fname, "libsnaploader_preload.so") == NULL) {
            fprintf(stderr, "%s resolves to %s\n", k_wrapped[i], info.dli_fname);
            exit(1);
        }
    }
}

static void t_not_preloaded(void)
{
    CHECK(dlsym(RTLD_DEFAULT, "snaploader_abi_version") == NULL);
    CHECK(dlsym(RTLD_DEFAULT, "snaploader_register") == NULL);
}

static int count_memfds(const char *name, int *last_fd)
{
    char want[64];
    snprintf(want, sizeof want, "/memfd:%s ", name);
    DIR *d = opendir("/proc/self/fd");
    CHECK(d != NULL);
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        char link[PATH_MAX], target[PATH_MAX];
        if (de->d_name[0] == '.') {
            continue;
        }
        pathf(link, "/proc/self/fd/%s", de->d_name);
        ssize_t r = readlink(link, target, sizeof target - 1);
        if (r <= 0) {
            continue;
        }
        target[r] = '\0';
        if (strncmp(target, want, strlen(want)) == 0) {
            n++;
            if (last_fd != NULL) {
                *last_fd = atoi(de->d_name);
            }
        }
    }
    closedir(d);
    return n;
}

static void t_register_rules(void)
{
    setup();
    char p[PATH_MAX];
    pathf(p, "%s/task/r.so", g_root);
    int unsealed = make_memfd("sl-unsealed", "x", 1, 0);
    CHECK(sl_register(p, unsealed) == -EPERM);
    int partial = make_memfd("sl-partial", "x", 1, F_SEAL_WRITE | F_SEAL_SHRINK);
    CHECK(sl_register(p, partial) == -EPERM);
    char real[PATH_MAX];
    pathf(real, "%s/plain.txt", g_root);
    int rf = open(real, O_CREAT | O_RDWR, 0644);
    CHECK(rf >= 0);
    CHECK(sl_register(p, rf) == -EPERM);
    CHECK(sl_register(p, -1) == -EBADF);
    CHECK(sl_register(p, 9999) == -EBADF);
    int good = sealed_memfd("sl-reg", "abc", 3);
    CHECK(sl_register(NULL, good) == -EINVAL);
    CHECK(sl_register("", good) == -EINVAL);
    CHECK(sl_register("task/r.so", good) == -EINVAL);
    CHECK(sl_register("/", good) == -EINVAL);
    char trailing[PATH_MAX];
    pathf(trailing, "%s/task/r.so/", g_root);
    CHECK(sl_register(trailing, good) == -EINVAL);
    static char huge[PATH_MAX + 10];
    memset(huge, 'a', sizeof huge - 1);
    huge[0] = '/';
    CHECK(sl_register(huge, good) == -ENAMETOOLONG);
    CHECK(stat(p, &(struct stat){0}) == -1); /* none of the above registered anything */

    CHECK(count_memfds("sl-reg", NULL) == 1);
    CHECK(sl_register(p, good) == 0);
    int dup = -1;
    CHECK(count_memfds("sl-reg", &dup) == 2); /* the shim's own duplicate */
    CHECK(dup != good);
    CHECK((fcntl(dup, F_GETFD) & FD_CLOEXEC) != 0);
    CHECK(sl_register(p, good) == 0);  /* the same file again: accepted, no new duplicate */
    CHECK(count_memfds("sl-reg", NULL) == 2);
    int other = sealed_memfd("sl-other", "xyz", 3);
    CHECK(sl_register(p, other) == -EEXIST);
    char spelled[PATH_MAX];
    pathf(spelled, "%s//task/./x/../r.so", g_root);
    CHECK(sl_register(spelled, other) == -EEXIST); /* same path after normalisation */
    CHECK(sl_register(g_path, other) == -EEXIST);
    CHECK(close(good) == 0);
    int fd = open(p, O_RDONLY);
    CHECK(fd >= 0);
    char buf[8];
    CHECK(read(fd, buf, sizeof buf) == 3 && memcmp(buf, "abc", 3) == 0);
    close(fd);
}

static void t_alias_rules(void)
{
    setup();
    CHECK(sl_alias("a/b.so", g_path) == -EINVAL);
    CHECK(sl_alias("", g_path) == -EINVAL);
    CHECK(sl_alias(NULL, g_path) == -EINVAL);
    CHECK(sl_alias("x.so", NULL) == -EINVAL);
    CHECK(sl_alias("x.so", "rel/x.so") == -EINVAL);
    char missing[PATH_MAX];
    pathf(missing, "%s/task/missing.so", g_root);
    CHECK(sl_alias("x.so", missing) == -ENOENT);
    CHECK(sl_alias("x.so", g_path) == 0);
    CHECK(sl_alias("x.so", g_path) == 0);
    char p2[PATH_MAX];
    pathf(p2, "%s/task/two.so", g_root);
    int fd = sealed_memfd("sl-two", "2", 1);
    CHECK(sl_register(p2, fd) == 0);
    CHECK(sl_alias("x.so", p2) == -EEXIST);
    CHECK(sl_alias("y.so", p2) == 0);
    /* an alias is for slash-less dlopen only: open("x.so") is relative to the cwd, not the alias */
    CHECK(chdir(g_root) == 0);
    CHECK_ERR(open("x.so", O_RDONLY), -1, ENOENT);
}

static void t_unregister(void)
{
    setup();
    CHECK(sl_unregister(NULL) == -EINVAL);
    CHECK(sl_unregister("task/lib.so") == -EINVAL);
    char missing[PATH_MAX];
    pathf(missing, "%s/task/missing.so", g_root);
    CHECK(sl_unregister(missing) == -ENOENT);
    CHECK(sl_alias("lib-alias.so", g_path) == 0);
    int shim_fd = -1;
    CHECK(count_memfds("sl-test", &shim_fd) == 1); /* setup closed its own: only the shim's duplicate is left */

    char spelled[PATH_MAX];
    pathf(spelled, "%s/task/./x/../lib.so", g_root);
    CHECK(sl_unregister(spelled) == 0);             /* matched after normalisation */
    CHECK(count_memfds("sl-test", NULL) == 0);      /* the memory file is released ... */
    char target[PATH_MAX];
    char proc[64];
    snprintf(proc, sizeof proc, "/proc/self/fd/%d", shim_fd);
    ssize_t n = readlink(proc, target, sizeof target - 1);
    CHECK(n > 0);
    target[n] = '\0';
    CHECK(strcmp(target, "/dev/null") == 0);        /* ... and its number refers to /dev/null, not to a later file */
    CHECK_ERR(open(g_path, O_RDONLY), -1, ENOENT);  /* the path answers from the disk again */
    CHECK(stat(g_path, &(struct stat){0}) == -1);
    CHECK(dlopen("lib-alias.so", RTLD_NOW) == NULL); /* and so does its alias */
    CHECK(sl_unregister(g_path) == -ENOENT);

    /* The path and the alias name can be used again, for another file. */
    int again = sealed_memfd("sl-again", "again", 5);
    CHECK(sl_register(g_path, again) == 0);
    CHECK(sl_alias("lib-alias.so", g_path) == 0);
    int fd = open(g_path, O_RDONLY);
    CHECK(fd >= 0);
    char buf[8];
    CHECK(read(fd, buf, sizeof buf) == 5 && memcmp(buf, "again", 5) == 0);
    close(fd);
    CHECK(sl_freeze() == 0);
    CHECK(sl_unregister(g_path) == -EBUSY);
    CHECK(access(g_path, R_OK) == 0);
}

static void t_freeze(void)
{
    setup();
    CHECK(sl_freeze() == 0);
    char p[PATH_MAX];
    pathf(p, "%s/task/late.so", g_root);
    int fd = sealed_memfd("sl-late", "l", 1);
    CHECK(sl_register(p, fd) == -EBUSY);
    CHECK(sl_alias("late.so", g_path) == -EBUSY);
    CHECK_ERR(open(p, O_RDONLY), -1, ENOENT);
    int f = open(g_path, O_RDONLY);
    CHECK(f >= 0);
    check_fd_content(f);
}

typedef int (*open_fn)(const char *, int, ...);
typedef int (*openat_fn)(int, const char *, int, ...);
typedef int (*open2_fn)(const char *, int);
typedef int (*openat2_fn)(int, const char *, int);

static void t_open_family(void)
{
    setup();
    const char *names[] = {"open", "open64"};
    for (int i = 0; i < 2; i++) {
        int fd = ((open_fn)sym(names[i]))(g_path, O_RDONLY | O_CLOEXEC);
        CHECK(fd >= 0);
        check_fd_content(fd);
        struct stat st;
        CHECK(fstat(fd, &st) == 0);
        CHECK(S_ISREG(st.st_mode) && st.st_size == (off_t)sizeof g_content);
        close(fd);
    }
    const char *at[] = {"openat", "openat64"};
    int dirfd = open(g_root, O_RDONLY | O_DIRECTORY);
    CHECK(dirfd >= 0);
    for (int i = 0; i < 2; i++) {
        int fd = ((openat_fn)sym(at[i]))(AT_FDCWD, g_path, O_RDONLY);
        CHECK(fd >= 0);
        check_fd_content(fd);
        close(fd);
        fd = ((openat_fn)sym(at[i]))(dirfd, "task/lib.so", O_RDONLY);
        CHECK(fd >= 0);
        check_fd_content(fd);
        close(fd);
        fd = ((openat_fn)sym(at[i]))(dirfd, g_path, O_RDONLY); /* absolute: dirfd ignored */
        CHECK(fd >= 0);
        close(fd);
    }
}

static void t_fortify_open_family(void)
{
    setup();
    const char *names[] = {"__open_2", "__open64_2"};
    for (int i = 0; i < 2; i++) {
        int fd = ((open2_fn)sym(names[i]))(g_path, O_RDONLY);
        CHECK(fd >= 0);
        check_fd_content(fd);
        close(fd);
        CHECK_ERR(((open2_fn)sym(names[i]))(g_path, O_WRONLY), -1, EROFS);
    }
    const char *at[] = {"__openat_2", "__openat64_2"};
    int dirfd = open(g_root, O_RDONLY | O_DIRECTORY);
    for (int i = 0; i < 2; i++) {
        int fd = ((openat2_fn)sym(at[i]))(dirfd, "task/lib.so", O_RDONLY);
        CHECK(fd >= 0);
        check_fd_content(fd);
        close(fd);
        CHECK_ERR(((openat2_fn)sym(at[i]))(AT_FDCWD, g_path, O_RDWR), -1, EROFS);
    }
}

static void t_open_rules(void)
{
    setup();
    CHECK_ERR(open(g_path, O_WRONLY), -1, EROFS);
    CHECK_ERR(open(g_path, O_RDWR), -1, EROFS);
    CHECK_ERR(open(g_path, O_RDONLY | O_TRUNC), -1, EROFS);
    CHECK_ERR(open(g_path, O_WRONLY | O_CREAT | O_TRUNC, 0644), -1, EROFS);
    CHECK_ERR(open(g_path, O_WRONLY | O_APPEND), -1, EROFS);
    CHECK_ERR(open(g_path, O_RDONLY | O_CREAT | O_EXCL, 0644), -1, EEXIST);
    CHECK_ERR(open(g_path, O_RDONLY | O_DIRECTORY), -1, ENOTDIR);
    int c = open(g_path, O_RDONLY | O_CREAT, 0644); /* exists: O_CREAT alone just opens */
    CHECK(c >= 0);
    close(c);
    int nf = open(g_path, O_RDONLY | O_NOFOLLOW); /* dropped: a regular file, not the /proc symlink */
    CHECK(nf >= 0);
    check_fd_content(nf);
    close(nf);
    /* each open has its own offset */
    int a = open(g_path, O_RDONLY), b = open(g_path, O_RDONLY);
    CHECK(a >= 0 && b >= 0);
    char buf[16];
    CHECK(read(a, buf, 10) == 10);
    CHECK(lseek(b, 0, SEEK_CUR) == 0);
    check_fd_content(b);
    CHECK(lseek(a, 0, SEEK_CUR) == 10);
    CHECK((fcntl(a, F_GETFD) & FD_CLOEXEC) == 0);
    int ce = open(g_path, O_RDONLY | O_CLOEXEC);
    CHECK((fcntl(ce, F_GETFD) & FD_CLOEXEC) != 0);
    /* the memfd cannot be written through a fresh read-only open either */
    CHECK_ERR(write(a, "x", 1), -1, EBADF);
}

typedef FILE *(*fopen_fn)(const char *, const char *);
typedef FILE *(*freopen_fn)(const char *, const char *, FILE *);

static void check_stream(FILE *f)
{
    CHECK(f != NULL);
    char buf[sizeof g_content + 10];
    CHECK(fread(buf, 1, sizeof buf, f) == sizeof g_content);
    CHECK(memcmp(buf, g_content, sizeof g_content) == 0);
    fclose(f);
}

static void t_fopen_family(void)
{
    setup();
    const char *names[] = {"fopen", "fopen64"};
    for (int i = 0; i < 2; i++) {
        fopen_fn f = (fopen_fn)sym(names[i]);
        check_stream(f(g_path, "r"));
        check_stream(f(g_path, "rb"));
        check_stream(f(g_path, "re"));
        const char *bad[] = {"w", "a", "r+", "w+", "a+", "rb+"};
        for (size_t j = 0; j < sizeof bad / sizeof *bad; j++) {
            errno = 0;
            CHECK(f(g_path, bad[j]) == NULL);
            CHECK(errno == EROFS);
        }
    }
    const char *re[] = {"freopen", "freopen64"};
    for (int i = 0; i < 2; i++) {
        freopen_fn f = (freopen_fn)sym(re[i]);
        FILE *s = fopen("/dev/null", "r");
        CHECK(s != NULL);
        check_stream(f(g_path, "r", s));
        s = fopen("/dev/null", "r");
        errno = 0;
        CHECK(f(g_path, "w", s) == NULL);
        CHECK(errno == EROFS);
    }
}

typedef int (*stat_fn)(const char *, struct stat *);
typedef int (*fstatat_fn)(int, const char *, struct stat *, int);
typedef int (*xstat_fn)(int, const char *, struct stat *);
typedef int (*fxstatat_fn)(int, int, const char *, struct stat *, int);

static void t_stat_new_abi(void)
{
    setup();
    struct stat ref;
    CHECK(stat(g_path, &ref) == 0);
    check_stat(&ref);
    const char *names[] = {"stat", "stat64", "lstat", "lstat64"};
    for (int i = 0; i < 4; i++) {
        struct stat st;
        CHECK(((stat_fn)sym(names[i]))(g_path, &st) == 0);
        check_stat(&st);
        CHECK(st.st_ino == ref.st_ino && st.st_dev == ref.st_dev);
    }
    const char *at[] = {"fstatat", "fstatat64"};
    int dirfd = open(g_root, O_RDONLY | O_DIRECTORY);
    for (int i = 0; i < 2; i++) {
        struct stat st;
        CHECK(((fstatat_fn)sym(at[i]))(AT_FDCWD, g_path, &st, 0) == 0);
        check_stat(&st);
        CHECK(((fstatat_fn)sym(at[i]))(AT_FDCWD, g_path, &st, AT_SYMLINK_NOFOLLOW) == 0);
        check_stat(&st);
        CHECK(((fstatat_fn)sym(at[i]))(dirfd, "task/lib.so", &st, AT_SYMLINK_NOFOLLOW) == 0);
        check_stat(&st);
        /* AT_EMPTY_PATH with "" is a stat of the fd itself */
        CHECK(((fstatat_fn)sym(at[i]))(dirfd, "", &st, AT_EMPTY_PATH) == 0);
        CHECK(S_ISDIR(st.st_mode));
    }
}

static void t_stat_old_abi(void)
{
    setup();
    const char *names[] = {"__xstat", "__xstat64", "__lxstat", "__lxstat64"};
    for (int i = 0; i < 4; i++) {
        struct stat st;
        memset(&st, 0, sizeof st);
        CHECK(((xstat_fn)sym(names[i]))(SL_STAT_VER, g_path, &st) == 0);
        check_stat(&st);
        /* unmatched calls reach glibc's old-ABI function */
        CHECK(((xstat_fn)sym(names[i]))(SL_STAT_VER, g_root, &st) == 0);
        CHECK(S_ISDIR(st.st_mode));
        CHECK_ERR(((xstat_fn)sym(names[i]))(SL_STAT_VER, "/nonexistent/snaploader", &st), -1, ENOENT);
    }
    const char *at[] = {"__fxstatat", "__fxstatat64"};
    int dirfd = open(g_root, O_RDONLY | O_DIRECTORY);
    for (int i = 0; i < 2; i++) {
        struct stat st;
        CHECK(((fxstatat_fn)sym(at[i]))(SL_STAT_VER, dirfd, "task/lib.so", &st, 0) == 0);
        check_stat(&st);
        CHECK(((fxstatat_fn)sym(at[i]))(SL_STAT_VER, AT_FDCWD, g_path, &st, AT_SYMLINK_NOFOLLOW) == 0);
        check_stat(&st);
        CHECK(((fxstatat_fn)sym(at[i]))(SL_STAT_VER, dirfd, "task", &st, 0) == 0);
        CHECK(S_ISDIR(st.st_mode));
    }
}

typedef int (*statx_fn)(int, const char *, int, unsigned int, struct statx *);

static void t_statx(void)
{
    setup();
    statx_fn f = (statx_fn)sym("statx");
    struct statx sx;
    memset(&sx, 0, sizeof sx);
    CHECK(f(AT_FDCWD, g_path, 0, STATX_BASIC_STATS, &sx) == 0);
    CHECK(S_ISREG(sx.stx_mode) && (sx.stx_mode & 0222) == 0);
    CHECK(sx.stx_size == sizeof g_content);
    CHECK(f(AT_FDCWD, g_path, AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, &sx) == 0);
    CHECK(S_ISREG(sx.stx_mode));
    int dirfd = open(g_root, O_RDONLY | O_DIRECTORY);
    CHECK(f(dirfd, "task/lib.so", AT_STATX_SYNC_AS_STAT, STATX_SIZE, &sx) == 0);
    CHECK(sx.stx_size == sizeof g_content);
    CHECK(f(dirfd, "", AT_EMPTY_PATH, STATX_BASIC_STATS, &sx) == 0);
    CHECK(S_ISDIR(sx.stx_mode));
    CHECK_ERR(f(AT_FDCWD, "/nonexistent/snaploader", 0, STATX_BASIC_STATS, &sx), -1, ENOENT);
}

typedef int (*access_fn)(const char *, int);
typedef int (*faccessat_fn)(int, const char *, int, int);

static void t_access_family(void)
{
    setup();
    access_fn a = (access_fn)sym("access");
    CHECK(a(g_path, F_OK) == 0);
    CHECK(a(g_path, R_OK) == 0);
    CHECK_ERR(a(g_path, W_OK), -1, EROFS);
    CHECK_ERR(a(g_path, R_OK | W_OK), -1, EROFS);
    faccessat_fn fa = (faccessat_fn)sym("faccessat");
    int dirfd = open(g_root, O_RDONLY | O_DIRECTORY);
    CHECK(fa(AT_FDCWD, g_path, R_OK, 0) == 0);
    CHECK(fa(dirfd, "task/lib.so", R_OK, AT_EACCESS) == 0);
    CHECK_ERR(fa(dirfd, "task/lib.so", W_OK, 0), -1, EROFS);
    CHECK_ERR(a("/nonexistent/snaploader", F_OK), -1, ENOENT);
}

typedef char *(*realpath_fn)(const char *, char *);
typedef char *(*realpath_chk_fn)(const char *, char *, size_t);
typedef char *(*canon_fn)(const char *);

static void t_realpath_family(void)
{
    setup();
    char spelled[PATH_MAX], buf[PATH_MAX];
    pathf(spelled, "%s//task/./nodir/../lib.so", g_root);
    realpath_fn rp = (realpath_fn)sym("realpath");
    CHECK(rp(spelled, buf) == buf);
    CHECK(strcmp(buf, g_path) == 0);
    char *m = rp(g_path, NULL);
    CHECK(m != NULL && strcmp(m, g_path) == 0);
    free(m);
    realpath_chk_fn chk = (realpath_chk_fn)sym("__realpath_chk");
    memset(buf, 0, sizeof buf);
    CHECK(chk(spelled, buf, sizeof buf) == buf);
    CHECK(strcmp(buf, g_path) == 0);
    canon_fn c = (canon_fn)sym("canonicalize_file_name");
    m = c(spelled);
    CHECK(m != NULL && strcmp(m, g_path) == 0);
    free(m);
    /* unmatched: the real realpath, which fails on the absent sibling */
    char absent[PATH_MAX];
    pathf(absent, "%s/task/other.so", g_root);
    CHECK_ERR(rp(absent, buf), NULL, ENOENT);
    CHECK(rp("/tmp/../tmp", buf) == buf && strcmp(buf, "/tmp") == 0);
}

typedef ssize_t (*readlink_fn)(const char *, char *, size_t);

static void t_readlink(void)
{
    setup();
    readlink_fn r = (readlink_fn)sym("readlink");
    char buf[PATH_MAX];
    CHECK_ERR(r(g_path, buf, sizeof buf), -1, EINVAL);
    char link[PATH_MAX];
    pathf(link, "%s/link", g_root);
    CHECK(symlink("target-of-link", link) == 0);
    ssize_t n = r(link, buf, sizeof buf);
    CHECK(n == 14 && memcmp(buf, "target-of-link", 14) == 0);
}

static void t_normalisation(void)
{
    setup();
    const char *good[] = {"%s/task/./lib.so", "%s/task/nodir/../lib.so", "/%s//task///lib.so",
                          "/../..%s/task/lib.so", "%s/./task/nodir/./../lib.so"};
    for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
        char p[PATH_MAX];
        pathf(p, good[i], g_root);
        int fd = open(p, O_RDONLY);
        if (fd < 0) {
            fprintf(stderr, "not matched: %s\n", p);
        }
        CHECK(fd >= 0);
        check_fd_content(fd);
        close(fd);
        struct stat st;
        CHECK(stat(p, &st) == 0);
        check_stat(&st);
    }
    const char *bad[] = {"%s/task/lib.so/", "%s/task/lib.so/.", "%s/task/lib.s", "%s/task/lib.so.1",
                         "%s/task/sub/lib.so", "%s/lib.so", "%s/task/lib.so/x/.."};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char p[PATH_MAX];
        pathf(p, bad[i], g_root);
        errno = 0;
        int fd = open(p, O_RDONLY);
        if (fd >= 0) {
            fprintf(stderr, "wrongly matched: %s\n", p);
        }
        CHECK(fd == -1);
    }
    /* a path registered in a non-normal spelling is stored normalised */
    char reg[PATH_MAX], norm[PATH_MAX];
    pathf(reg, "%s//task/x/.././n.so", g_root);
    pathf(norm, "%s/task/n.so", g_root);
    int fd = sealed_memfd("sl-n", "n", 1);
    CHECK(sl_register(reg, fd) == 0);
    struct stat st;
    CHECK(stat(norm, &st) == 0 && st.st_size == 1);
}

static void t_relative_cwd(void)
{
    setup();
    char task[PATH_MAX];
    pathf(task, "%s/task", g_root);
    CHECK(chdir(task) == 0);
    const char *rel[] = {"lib.so", "./lib.so", "../task/lib.so", "nodir/../lib.so"};
    for (size_t i = 0; i < 4; i++) {
        int fd = open(rel[i], O_RDONLY);
        CHECK(fd >= 0);
        check_fd_content(fd);
        close(fd);
        struct stat st;
        CHECK(lstat(rel[i], &st) == 0);
        check_stat(&st);
        CHECK(access(rel[i], R_OK) == 0);
        char buf[PATH_MAX];
        CHECK(realpath(rel[i], buf) != NULL && strcmp(buf, g_path) == 0);
        FILE *f = fopen(rel[i], "r");
        check_stream(f);
    }
    CHECK(chdir("/") == 0);
    CHECK_ERR(open("lib.so", O_RDONLY), -1, ENOENT);
}

static void t_relative_dirfd(void)
{
    setup();
    int rootfd = open(g_root, O_RDONLY | O_DIRECTORY);
    char task[PATH_MAX];
    pathf(task, "%s/task", g_root);
    int taskfd = open(task, O_RDONLY | O_DIRECTORY);
    CHECK(rootfd >= 0 && taskfd >= 0);
    CHECK(chdir("/") == 0);
    int fd = openat(taskfd, "lib.so", O_RDONLY);
    CHECK(fd >= 0);
    check_fd_content(fd);
    close(fd);
    fd = openat(rootfd, "./task/../task/lib.so", O_RDONLY | O_NOFOLLOW);
    CHECK(fd >= 0);
    close(fd);
    struct stat st;
    CHECK(fstatat(taskfd, "lib.so", &st, 0) == 0);
    check_stat(&st);
    CHECK(((fxstatat_fn)sym("__fxstatat64"))(SL_STAT_VER, rootfd, "task/lib.so", &st, 0) == 0);
    check_stat(&st);
    CHECK(faccessat(taskfd, "lib.so", R_OK, 0) == 0);
    struct statx sx;
    CHECK(statx(taskfd, "lib.so", 0, STATX_SIZE, &sx) == 0 && sx.stx_size == sizeof g_content);
    /* the same relative name against another directory is another path */
    CHECK_ERR(openat(rootfd, "lib.so", O_RDONLY), -1, ENOENT);
    CHECK_ERR(openat(-5, "lib.so", O_RDONLY), -1, EBADF);
}


/* A cwd longer than PATH_MAX cannot be resolved lexically: relative calls must still pass through untouched,
 * errno included (getcwd's ERANGE must not leak into a call that succeeds). */
static void t_long_cwd(void)
{
    setup();
    CHECK(chdir(g_root) == 0);
    char name[200];
    memset(name, 'd', sizeof name - 1);
    name[sizeof name - 1] = '\0';
    for (int depth = 0; depth < 25; depth++) { /* 25 * 200 > PATH_MAX */
        CHECK(mkdir(name, 0755) == 0);
        CHECK(chdir(name) == 0);
    }
    int fd = open("f.txt", O_WRONLY | O_CREAT | O_TRUNC, 0644);
    CHECK(fd >= 0 && write(fd, "abc", 3) == 3 && close(fd) == 0);
    char cwd[PATH_MAX];
    CHECK(getcwd(cwd, sizeof cwd) == NULL); /* precondition: too long */
    errno = 0;
    fd = open("f.txt", O_RDONLY);
    CHECK(fd >= 0);
    CHECK(errno == 0);
    close(fd);
    struct stat st;
    errno = 0;
    CHECK(stat("f.txt", &st) == 0 && st.st_size == 3);
    CHECK(errno == 0);
    errno = 0;
    CHECK(access("f.txt", R_OK) == 0 && errno == 0);
    CHECK_ERR(open("lib.so", O_RDONLY), -1, ENOENT);
    CHECK(chdir(g_root) == 0);
}


/* Lookups (hits, misses, relative paths, dirfds) allocate nothing. */
static void t_no_allocation(void)
{
    setup();
    char task[PATH_MAX], absent[PATH_MAX], spelled[PATH_MAX], buf[PATH_MAX];
    pathf(task, "%s/task", g_root);
    pathf(absent, "%s/task/absent.so", g_root);
    pathf(spelled, "%s//task/./x/../lib.so", g_root);
    int dirfd = open(task, O_RDONLY | O_DIRECTORY);
    CHECK(dirfd >= 0 && chdir(task) == 0);
    /* warm up: lazy binding and the shim's first-use resolution may allocate once */
    struct stat st;
    CHECK(stat(g_path, &st) == 0);
    __atomic_store_n(&g_count_allocations, 1, __ATOMIC_RELAXED);
    for (int i = 0; i < 100; i++) {
        int fd = open(spelled, O_RDONLY);
        CHECK(fd >= 0 && close(fd) == 0);
        fd = openat(dirfd, "lib.so", O_RDONLY);
        CHECK(fd >= 0 && close(fd) == 0);
        CHECK(stat("lib.so", &st) == 0 && lstat(g_path, &st) == 0 && fstatat(dirfd, "lib.so", &st, 0) == 0);
        CHECK(access(g_path, R_OK) == 0 && faccessat(dirfd, "lib.so", R_OK, 0) == 0);
        CHECK(realpath(spelled, buf) == buf);
        CHECK(readlink(g_path, buf, sizeof buf) == -1);
        CHECK(open(absent, O_RDONLY) == -1 && stat(absent, &st) == -1 && access("absent.so", F_OK) == -1);
    }
    __atomic_store_n(&g_count_allocations, 0, __ATOMIC_RELAXED);
    if (g_allocations != 0) {
        fprintf(stderr, "%ld allocations on the lookup path\n", g_allocations);
    }
    CHECK(g_allocations == 0);
}

typedef void *(*dlopen_fn)(const char *, int);

static void t_null_paths(void)
{
    setup(); /* the table is not empty: NULL must get past the lookup, not just its empty-table shortcut */
    struct stat st;
    struct statx sx;
    char buf[PATH_MAX];
    CHECK_ERR(((open_fn)sym("open"))(NULL, O_RDONLY), -1, EFAULT);
    CHECK_ERR(((open_fn)sym("open64"))(NULL, O_RDONLY), -1, EFAULT);
    CHECK_ERR(((openat_fn)sym("openat"))(AT_FDCWD, NULL, O_RDONLY), -1, EFAULT);
    CHECK_ERR(((openat_fn)sym("openat64"))(AT_FDCWD, NULL, O_RDONLY), -1, EFAULT);
    CHECK_ERR(((open2_fn)sym("__open_2"))(NULL, O_RDONLY), -1, EFAULT);
    CHECK_ERR(((open2_fn)sym("__open64_2"))(NULL, O_RDONLY), -1, EFAULT);
    CHECK_ERR(((openat2_fn)sym("__openat_2"))(AT_FDCWD, NULL, O_RDONLY), -1, EFAULT);
    CHECK_ERR(((openat2_fn)sym("__openat64_2"))(AT_FDCWD, NULL, O_RDONLY), -1, EFAULT);
    CHECK_ERR(((fopen_fn)sym("fopen"))(NULL, "r"), NULL, EFAULT);
    CHECK_ERR(((fopen_fn)sym("fopen64"))(NULL, "r"), NULL, EFAULT);
    const char *s[] = {"stat", "stat64", "lstat", "lstat64"};
    for (int i = 0; i < 4; i++) {
        CHECK_ERR(((stat_fn)sym(s[i]))(NULL, &st), -1, EFAULT);
    }
    CHECK_ERR(((fstatat_fn)sym("fstatat"))(AT_FDCWD, NULL, &st, 0), -1, EFAULT);
    CHECK_ERR(((fstatat_fn)sym("fstatat64"))(AT_FDCWD, NULL, &st, 0), -1, EFAULT);
    const char *x[] = {"__xstat", "__xstat64", "__lxstat", "__lxstat64"};
    for (int i = 0; i < 4; i++) {
        CHECK_ERR(((xstat_fn)sym(x[i]))(SL_STAT_VER, NULL, &st), -1, EFAULT);
    }
    CHECK_ERR(((fxstatat_fn)sym("__fxstatat"))(SL_STAT_VER, AT_FDCWD, NULL, &st, 0), -1, EFAULT);
    CHECK_ERR(((fxstatat_fn)sym("__fxstatat64"))(SL_STAT_VER, AT_FDCWD, NULL, &st, 0), -1, EFAULT);
    CHECK_ERR(((statx_fn)sym("statx"))(AT_FDCWD, NULL, 0, STATX_BASIC_STATS, &sx), -1, EFAULT);
    CHECK_ERR(((access_fn)sym("access"))(NULL, F_OK), -1, EFAULT);
    CHECK_ERR(((faccessat_fn)sym("faccessat"))(AT_FDCWD, NULL, F_OK, 0), -1, EFAULT);
    CHECK_ERR(((realpath_fn)sym("realpath"))(NULL, buf), NULL, EINVAL);
    CHECK_ERR(((realpath_chk_fn)sym("__realpath_chk"))(NULL, buf, sizeof buf), NULL, EINVAL);
    CHECK_ERR(((canon_fn)sym("canonicalize_file_name"))(NULL), NULL, EINVAL);
    CHECK_ERR(((readlink_fn)sym("readlink"))(NULL, buf, sizeof buf), -1, EFAULT);
    /* dlopen(NULL) is the main program, and freopen(NULL) changes the mode of the same file */
    void *self = ((dlopen_fn)sym("dlopen"))(NULL, RTLD_NOW);
    CHECK(self != NULL);
    CHECK(dlsym(self, "printf") != NULL);
    void *self2 = ((void *(*)(Lmid_t, const char *, int))sym("dlmopen"))(LM_ID_BASE, NULL, RTLD_NOW);
    CHECK(self2 != NULL);
    FILE *f = fopen("/dev/null", "r");
    CHECK(((freopen_fn)sym("freopen"))(NULL, "r", f) != NULL);
}

static void t_no_basename_fallback(void)
{
    setup();
    char p[PATH_MAX], d[PATH_MAX];
    pathf(d, "%s/other", g_root);
    CHECK(mkdir(d, 0755) == 0);
    pathf(p, "%s/other/lib.so", g_root);
    struct stat st;
    CHECK_ERR(open(p, O_RDONLY), -1, ENOENT);
    CHECK_ERR(stat(p, &st), -1, ENOENT);
    CHECK_ERR(access(p, F_OK), -1, ENOENT);
    CHECK(dlopen(p, RTLD_NOW) == NULL);
    CHECK(dlopen("lib.so", RTLD_NOW) == NULL); /* no alias registered */
    /* a real file with the same name elsewhere is itself, not the registered one */
    FILE *w = fopen(p, "w");
    CHECK(w != NULL && fputs("REAL", w) >= 0 && fclose(w) == 0);
    int fd = open(p, O_RDONLY);
    char buf[16];
    CHECK(fd >= 0 && read(fd, buf, sizeof buf) == 4 && memcmp(buf, "REAL", 4) == 0);
    CHECK(stat(p, &st) == 0 && st.st_size == 4);
}

static void t_passthrough(void)
{
    setup();
    char p[PATH_MAX];
    pathf(p, "%s/task/real.txt", g_root);
    int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644); /* writing is fine on an unregistered path */
    CHECK(fd >= 0 && write(fd, "12345", 5) == 5 && close(fd) == 0);
    struct stat st;
    CHECK(stat(p, &st) == 0 && st.st_size == 5 && (st.st_mode & S_IWUSR) != 0);
    CHECK(lstat(p, &st) == 0 && st.st_size == 5);
    CHECK(access(p, W_OK) == 0);
    char buf[PATH_MAX];
    CHECK(realpath(p, buf) != NULL && strcmp(buf, p) == 0);
    CHECK_ERR(readlink(p, buf, sizeof buf), -1, EINVAL);
    FILE *f = fopen(p, "a");
    CHECK(f != NULL && fputs("6", f) >= 0 && fclose(f) == 0);
    CHECK(stat(p, &st) == 0 && st.st_size == 6);
    char absent[PATH_MAX];
    pathf(absent, "%s/task/absent.so", g_root);
    CHECK_ERR(open(absent, O_RDONLY), -1, ENOENT);
    CHECK(dlopen(absent, RTLD_NOW) == NULL);
    CHECK(dlopen("libm.so.6", RTLD_NOW) != NULL); /* a system library by bare name */
}

/* ---- concurrency: lookups on several threads while the main thread registers, plus racing registrations */

#define CONC_FILES 400
static int g_published; /* files 0..g_published-1 are registered */
static int g_done;

static void conc_path(char *out, int i)
{
    pathf(out, "%s/task/c%d.so", g_root, i);
}

static void *reader(void *arg)
{
    unsigned int seed = (unsigned int)(size_t)arg;
    long checks = 0;
    while (!__atomic_load_n(&g_done, __ATOMIC_ACQUIRE) || checks < 2000) {
        int n = __atomic_load_n(&g_published, __ATOMIC_ACQUIRE);
        int i = (int)(rand_r(&seed) % CONC_FILES);
        char p[PATH_MAX];
        conc_path(p, i);
        struct stat st;
        int r = stat(p, &st);
        if (i < n) {
            CHECK(r == 0 && st.st_size == i + 1);
            int fd = open(p, O_RDONLY);
            unsigned char b = 0;
            CHECK(fd >= 0 && read(fd, &b, 1) == 1 && b == (unsigned char)i && close(fd) == 0);
        } else if (r != 0) {
            CHECK(errno == ENOENT); /* not yet registered: a plain miss, never a wrong file */
        } else {
            CHECK(st.st_size == i + 1);
        }
        checks++;
    }
    return NULL;
}

struct racer {
    const char *path;
    int fd;
    int rc;
};

static void *racer(void *arg)
{
    struct racer *r = arg;
    r->rc = sl_register(r->path, r->fd);
    return NULL;
}

static void t_concurrency(void)
{
    setup();
    pthread_t t[4];
    for (int i = 0; i < 4; i++) {
        CHECK(pthread_create(&t[i], NULL, reader, (void *)(size_t)(i + 1)) == 0);
    }
    static unsigned char data[CONC_FILES + 1];
    for (int i = 0; i < CONC_FILES; i++) {
        memset(data, (unsigned char)i, (size_t)i + 1);
        char p[PATH_MAX];
        conc_path(p, i);
        int fd = sealed_memfd("sl-conc", data, (size_t)i + 1);
        CHECK(sl_register(p, fd) == 0);
        close(fd);
        __atomic_store_n(&g_published, i + 1, __ATOMIC_RELEASE);
    }
    __atomic_store_n(&g_done, 1, __ATOMIC_RELEASE);
    for (int i = 0; i < 4; i++) {
        CHECK(pthread_join(t[i], NULL) == 0);
    }
    /* racing registrations of one path with different files: exactly one wins */
    for (int round = 0; round < 50; round++) {
        char p[PATH_MAX];
        pathf(p, "%s/task/race%d.so", g_root, round);
        struct racer r[4];
        pthread_t rt[4];
        for (int i = 0; i < 4; i++) {
            r[i].path = p;
            r[i].fd = sealed_memfd("sl-race", &i, sizeof i);
            CHECK(pthread_create(&rt[i], NULL, racer, &r[i]) == 0);
        }
        int wins = 0, winner = -1;
        for (int i = 0; i < 4; i++) {
            CHECK(pthread_join(rt[i], NULL) == 0);
            if (r[i].rc == 0) {
                wins++;
                winner = i;
            } else {
                CHECK(r[i].rc == -EEXIST);
            }
        }
        CHECK(wins == 1);
        int fd = open(p, O_RDONLY), v = -1;
        CHECK(fd >= 0 && read(fd, &v, sizeof v) == sizeof v && v == winner);
        close(fd);
        for (int i = 0; i < 4; i++) {
            close(r[i].fd);
        }
    }
}

/* ---- child process: the table is per process; the shim's duplicates do not leak across exec */

static int child_check(int argc, char **argv)
{
    CHECK(argc == 5);
    api();
    int leaked = atoi(argv[2]);
    const char *path = argv[3];
    errno = 0;
    CHECK(fcntl(leaked, F_GETFD) == -1 && errno == EBADF);
    CHECK(count_memfds("sl-child", NULL) == 0);
    CHECK(dlsym(RTLD_DEFAULT, "snaploader_abi_version") != NULL); /* LD_PRELOAD was inherited */
    struct stat st;
    CHECK_ERR(stat(path, &st), -1, ENOENT); /* the parent's registration is not ours */
    int fd = sealed_memfd("sl-child-own", argv[4], strlen(argv[4]));
    CHECK(sl_register(path, fd) == 0);
    CHECK(stat(path, &st) == 0 && st.st_size == (off_t)strlen(argv[4]));
    return 0;
}

static void t_child_process(void)
{
    setup();
    char p[PATH_MAX];
    pathf(p, "%s/task/child.so", g_root);
    int fd = sealed_memfd("sl-child", "parent", 6);
    CHECK(sl_register(p, fd) == 0);
    CHECK(close(fd) == 0);
    int shim_fd = -1;
    CHECK(count_memfds("sl-child", &shim_fd) == 1);
    CHECK((fcntl(shim_fd, F_GETFD) & FD_CLOEXEC) != 0);
    char fdarg[16];
    snprintf(fdarg, sizeof fdarg, "%d", shim_fd);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        char *args[] = {"shim_tests", "child_check", fdarg, p, "child-content", NULL};
        execv("/proc/self/exe", args);
        _exit(127);
    }
    int status = 0;
    CHECK(waitpid(pid, &status, 0) == pid);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    struct stat st;
    CHECK(stat(p, &st) == 0 && st.st_size == 6); /* the child's registration is not ours either */
}

/* ---- dlopen */

static int memfd_of_file(const char *name, const char *file)
{
    int src = open(file, O_RDONLY);
    CHECK(src >= 0);
    struct stat st;
    CHECK(fstat(src, &st) == 0);
    char *buf = malloc((size_t)st.st_size);
    CHECK(buf != NULL && read(src, buf, (size_t)st.st_size) == st.st_size);
    close(src);
    int fd = sealed_memfd(name, buf, (size_t)st.st_size);
    free(buf);
    return fd;
}

static void t_dlopen_registered(void)
{
    setup();
    char p[PATH_MAX];
    pathf(p, "%s/task/libfixture.so", g_root);
    int fd = memfd_of_file("sl-fixture", SL_FIXTURE_DIR "/libsl_fixture.so");
    CHECK(sl_register(p, fd) == 0);
    CHECK(sl_alias("libsnapfixture.so", p) == 0);
    void *h = dlopen(p, RTLD_NOW);
    if (h == NULL) {
        fprintf(stderr, "dlopen: %s\n", dlerror());
    }
    CHECK(h != NULL);
    int (*answer)(void) = (int (*)(void))dlsym(h, "sl_fixture_answer");
    CHECK(answer != NULL && answer() == 42);
    CHECK(dlopen("libsnapfixture.so", RTLD_NOW) == h);
    char spelled[PATH_MAX];
    pathf(spelled, "%s/task/../task/./libfixture.so", g_root);
    CHECK(dlopen(spelled, RTLD_NOW | RTLD_NOLOAD) == h);
    void *hm = dlmopen(LM_ID_BASE, p, RTLD_NOW);
    CHECK(hm == h);
    char task[PATH_MAX];
    pathf(task, "%s/task", g_root);
    CHECK(chdir(task) == 0);
    CHECK(dlopen("./libfixture.so", RTLD_NOW) == h);
    CHECK(dlopen("libfixture.so", RTLD_NOW) == NULL); /* a bare name needs an alias: none for this one */
}

static void t_dlopen_runpath_tailcall(void)
{
    setup();
    /* precondition: libdep.so is reachable only through libcaller.so's RUNPATH */
    CHECK(dlopen("libdep.so", RTLD_NOW) == NULL);
    void *caller = dlopen(SL_FIXTURE_DIR "/libcaller.so", RTLD_NOW);
    CHECK(caller != NULL);
    void *(*caller_dlopen)(const char *) = (void *(*)(const char *))dlsym(caller, "sl_caller_dlopen");
    CHECK(caller_dlopen != NULL);
    void *dep = caller_dlopen("libdep.so");
    if (dep == NULL) {
        fprintf(stderr, "dlopen(\"libdep.so\") from libcaller.so: %s\n", dlerror());
    }
    CHECK(dep != NULL);
    int (*answer)(void) = (int (*)(void))dlsym(dep, "sl_dep_answer");
    CHECK(answer != NULL && answer() == 7);
    /* and a registered alias dlopened by that library goes to the memfd */
    char p[PATH_MAX];
    pathf(p, "%s/task/libfixture.so", g_root);
    int fd = memfd_of_file("sl-fixture", SL_FIXTURE_DIR "/libsl_fixture.so");
    CHECK(sl_register(p, fd) == 0);
    CHECK(sl_alias("libsnapfixture.so", p) == 0);
    void *h = caller_dlopen("libsnapfixture.so");
    CHECK(h != NULL && dlsym(h, "sl_fixture_answer") != NULL);
}

/* ---------------------------------------------------------------------------------------------------- */

struct test_case {
    const char *name;
    void (*run)(void);
};

static const struct test_case k_tests[] = {
    {"preload_detected", t_preload_detected},
    {"register_rules", t_register_rules},
    {"alias_rules", t_alias_rules},
    {"unregister", t_unregister},
    {"freeze", t_freeze},
    {"open_family", t_open_family},
    {"fortify_open_family", t_fortify_open_family},
    {"open_rules", t_open_rules},
    {"fopen_family", t_fopen_family},
    {"stat_new_abi", t_stat_new_abi},
    {"stat_old_abi", t_stat_old_abi},
    {"statx", t_statx},
    {"access_family", t_access_family},
    {"realpath_family", t_realpath_family},
    {"readlink", t_readlink},
    {"normalisation", t_normalisation},
    {"relative_cwd", t_relative_cwd},
    {"relative_dirfd", t_relative_dirfd},
    {"long_cwd", t_long_cwd},
    {"null_paths", t_null_paths},
    {"no_basename_fallback", t_no_basename_fallback},
    {"passthrough", t_passthrough},
    {"concurrency", t_concurrency},
    {"no_allocation", t_no_allocation},
    {"child_process", t_child_process},
    {"dlopen_registered", t_dlopen_registered},
    {"dlopen_runpath_tailcall", t_dlopen_runpath_tailcall},
    {"not_preloaded", t_not_preloaded},
};

static void cleanup(void)
{
    if (g_root[0] != '\0') {
        char cmd[PATH_MAX];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_root);
        if (system(cmd) != 0) {
            fprintf(stderr, "could not remove %s\n", g_root);
        }
    }
}

int main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "--list") == 0) {
        for (size_t i = 0; i < sizeof k_tests / sizeof *k_tests; i++) {
            puts(k_tests[i].name);
        }
        return 0;
    }
    if (argc >= 2 && strcmp(argv[1], "child_check") == 0) {
        return child_check(argc, argv);
    }
    for (size_t i = 0; argc == 2 && i < sizeof k_tests / sizeof *k_tests; i++) {
        if (strcmp(argv[1], k_tests[i].name) == 0) {
            atexit(cleanup);
            k_tests[i].run();
            printf("PASS %s\n", k_tests[i].name);
            return 0;
        }
    }
    fprintf(stderr, "usage: shim_tests --list | <case>\n");
    return 2;
}

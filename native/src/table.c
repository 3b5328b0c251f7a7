/*
 * The registration table: a fixed-size open-addressing hash table. Writers (registration) are serialised by
 * a mutex and publish an entry by a release store of its key after every other field is written; readers
 * (every interposed call) probe with acquire loads, never lock and never allocate. Entries are never freed,
 * so a probe can stop at the first free slot: snaploader_unregister only marks a file removed (a tombstone that
 * probes skip, and a later registration of the same path takes a new slot), and an alias whose file is removed
 * counts as removed too.
 */
#include "shim.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#ifndef F_GET_SEALS
#define F_ADD_SEALS 1033
#define F_GET_SEALS 1034
#define F_SEAL_SEAL 0x0001
#define F_SEAL_SHRINK 0x0002
#define F_SEAL_GROW 0x0004
#define F_SEAL_WRITE 0x0008
#endif

#define SL_SLOTS 8192u              /* power of two; at most SL_MAX_ENTRIES are used (load <= 1/2) */
#define SL_MAX_ENTRIES (SL_SLOTS / 2)
#define SL_ARENA_SIZE (2u << 20)    /* key storage; bss, so only the pages used are committed */

static struct sl_entry g_files[SL_SLOTS];
static struct sl_entry g_aliases[SL_SLOTS];
static char g_arena[SL_ARENA_SIZE];
static size_t g_arena_used;
static unsigned int g_file_count;   /* read with acquire: 0 makes every lookup a no-op */
static unsigned int g_alias_count;
static int g_frozen;
static unsigned int g_live_count;   /* entries registered and not taken back; with none, /dev/null is closed too */
static int g_null_fd = -1;          /* /dev/null, opened with the first registration: what unregister puts behind an fd */
static unsigned long g_uses;        /* wrappers between sl_use_begin and sl_use_end */
static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;

/* Whether e (a file, or an alias through its file) still stands; acquire pairs with unregister's release. */
static int is_live(const struct sl_entry *e)
{
    return !__atomic_load_n(&e->target->removed, __ATOMIC_ACQUIRE);
}

int sl_is_live(const struct sl_entry *e)
{
    return is_live(e);
}

/* A wrapper holds a use of the entry it matched from the match until it returns (wrap.h, dl.c). The count and the
 * removed mark are sequentially consistent: a use that saw the entry live was counted before snaploader_unregister
 * marked it, so the unregister that waits for no use to remain cannot close the descriptor under it; a use counted
 * later sees the mark, and its wrapper looks again. One count for all entries: uses are short, unregister is rare. */
int sl_use_begin(const struct sl_entry *e)
{
    __atomic_add_fetch(&g_uses, 1, __ATOMIC_SEQ_CST);
    if (__atomic_load_n(&e->target->removed, __ATOMIC_SEQ_CST)) {
        __atomic_sub_fetch(&g_uses, 1, __ATOMIC_RELEASE);
        return 0;
    }
    return 1;
}

void sl_use_end(void)
{
    __atomic_sub_fetch(&g_uses, 1, __ATOMIC_RELEASE);
}

/* Whether the last wait ran out with a use still held; later waits give up at once until no use is seen. Guarded by
 * g_lock. An unregister of many paths behind one long dlopen then waits 200 ms once, not once per path. */
static int g_uses_stuck;

/* Waits, at most about 200 ms, until no wrapper holds a use; 0 when some still do. Called with g_lock held. It
 * sleeps 1 ms at a time rather than spinning, since the thread whose use must end may need this CPU (Lambda's
 * fractional vCPUs); through the raw system call, since clock_gettime and nanosleep would add glibc imports. */
static int wait_for_no_use(void)
{
    for (int slept = 0;; slept++) {
        if (__atomic_load_n(&g_uses, __ATOMIC_SEQ_CST) == 0) {
            g_uses_stuck = 0;
            return 1;
        }
        if (g_uses_stuck || slept == 200) {
            g_uses_stuck = 1;
            return 0;
        }
        struct timespec one_ms = {0, 1000000L};
        syscall(SYS_clock_nanosleep, CLOCK_MONOTONIC, 0, &one_ms, NULL);
    }
}

const struct sl_library *sl_library_of(const struct sl_entry *e)
{
    return __atomic_load_n(&e->target->library, __ATOMIC_ACQUIRE);
}

static unsigned long long fnv1a(const char *s, size_t n)
{
    unsigned long long h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ull;
    }
    return h;
}

static const struct sl_entry *probe(const struct sl_entry *table, const char *key, size_t len,
                                    unsigned long long h)
{
    for (unsigned int i = 0; i < SL_SLOTS; i++) {
        const struct sl_entry *e = &table[(h + i) & (SL_SLOTS - 1)];
        const char *k = __atomic_load_n(&e->key, __ATOMIC_ACQUIRE);
        if (k == NULL) {
            return NULL;
        }
        if (e->hash == h && e->key_len == len && memcmp(k, key, len) == 0 && is_live(e)) {
            return e;
        }
    }
    return NULL;
}

const struct sl_entry *sl_lookup_at(int dirfd, const char *path)
{
    /* Read through a volatile: wrappers of nonnull-declared functions must still see a NULL path. */
    const char *volatile vpath = path;
    const char *p = vpath;
    if (p == NULL || p[0] == '\0') {
        return NULL;
    }
    if (__atomic_load_n(&g_file_count, __ATOMIC_ACQUIRE) == 0) {
        return NULL;
    }
    int saved = errno;
    char norm[PATH_MAX];
    int trailing = 0;
    long n = sl_absolute_at(dirfd, p, norm, sizeof norm, &trailing);
    const struct sl_entry *e = NULL;
    if (n > 0) {
        e = probe(g_files, norm, (size_t)n, fnv1a(norm, (size_t)n));
        if (e != NULL && trailing && !e->directory) {
            e = NULL;
        }
    }
    errno = saved;
    return e;
}

const struct sl_entry *sl_lookup_alias(const char *name)
{
    const char *volatile vname = name;
    const char *p = vname;
    if (p == NULL || p[0] == '\0' || __atomic_load_n(&g_alias_count, __ATOMIC_ACQUIRE) == 0) {
        return NULL;
    }
    size_t len = strlen(p);
    const struct sl_entry *e = probe(g_aliases, p, len, fnv1a(p, len));
    return e != NULL ? e->target : NULL;
}

/* Claims the slot for key (its live entry, or a free slot). Called with g_lock held. */
static struct sl_entry *slot_for(struct sl_entry *table, const char *key, size_t len, unsigned long long h)
{
    for (unsigned int i = 0; i < SL_SLOTS; i++) {
        struct sl_entry *e = &table[(h + i) & (SL_SLOTS - 1)];
        if (e->key == NULL || (e->hash == h && e->key_len == len && memcmp(e->key, key, len) == 0 && is_live(e))) {
            return e;
        }
    }
    return NULL;
}

/* Arena storage for a structure: aligned as any object, zeroed (bss). Called with g_lock held. */
static void *arena_alloc(size_t size)
{
    size_t align = _Alignof(max_align_t);
    size_t start = (g_arena_used + align - 1) & ~(align - 1);
    if (start + size > SL_ARENA_SIZE) {
        return NULL;
    }
    g_arena_used = start + size;
    return g_arena + start;
}

static const char *arena_copy(const char *s, size_t len)
{
    if (g_arena_used + len + 1 > SL_ARENA_SIZE) {
        return NULL;
    }
    char *dst = g_arena + g_arena_used;
    memcpy(dst, s, len);
    dst[len] = '\0';
    g_arena_used += len + 1;
    return dst;
}

static void format_proc_path(char *out, int fd)
{
    static const char prefix[] = "/proc/self/fd/";
    char digits[12];
    int nd = 0;
    unsigned int v = (unsigned int)fd;
    memcpy(out, prefix, sizeof prefix - 1);
    do {
        digits[nd++] = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    size_t l = sizeof prefix - 1;
    while (nd > 0) {
        out[l++] = digits[--nd];
    }
    out[l] = '\0';
}

SL_EXPORT int snaploader_abi_version(void)
{
    return SNAPLOADER_ABI_VERSION;
}

/* Checks an API caller's original path and normalises it into norm (PATH_MAX bytes): its length, or -errno. */
static long api_path(const char *original_path, char *norm)
{
    const char *volatile vpath = original_path;
    const char *path = vpath;
    if (path == NULL || path[0] != '/') {
        return -EINVAL;
    }
    if (strlen(path) >= PATH_MAX) {
        return -ENAMETOOLONG;
    }
    int trailing = 0;
    long n = sl_normalize(path, norm, PATH_MAX, &trailing);
    if (n < 0) {
        return -ENAMETOOLONG;
    }
    if (trailing || n <= 1) {
        return -EINVAL;
    }
    return n;
}

/* Registers norm (n bytes, normalised) for a duplicate of fd, whose fstat is st. */
static int register_descriptor(const char *norm, long n, int fd, const struct stat *st)
{
    int rc = 0;
    int err = 0;
    pthread_mutex_lock(&g_lock);
    if (g_frozen) {
        rc = -EBUSY;
        goto out;
    }
    /* Whatever unregister needs is in hand before anything is registered: a rollback must not fail for want of a
     * descriptor, which is what a load that ran out of them has to do. */
    if (g_null_fd < 0) {
        long null_fd = syscall(SYS_openat, AT_FDCWD, "/dev/null", O_RDONLY | O_CLOEXEC);
        if (null_fd < 0) {
            rc = -errno;
            goto out;
        }
        /* Above the standard streams, like the memfd duplicates: code that closes and reopens 0-2 must not take it. */
        long high = syscall(SYS_fcntl, (int)null_fd, F_DUPFD_CLOEXEC, 3);
        syscall(SYS_close, (int)null_fd);
        if (high < 0) {
            rc = -errno;
            goto out;
        }
        g_null_fd = (int)high;
    }
    unsigned long long h = fnv1a(norm, (size_t)n);
    struct sl_entry *e = slot_for(g_files, norm, (size_t)n, h);
    if (e != NULL && e->key != NULL) {
        struct stat old;
        if (sl_sys_fstat(e->fd, &old, &err) == 0 && old.st_dev == st->st_dev && old.st_ino == st->st_ino) {
            rc = 0;  /* the same file again */
        } else {
            rc = -EEXIST;
        }
        goto out;
    }
    if (e == NULL || g_file_count >= SL_MAX_ENTRIES) {
        rc = -ENOSPC;
        goto out;
    }
    const char *key = arena_copy(norm, (size_t)n);
    if (key == NULL) {
        rc = -ENOSPC;
        goto out;
    }
    long dup = syscall(SYS_fcntl, fd, F_DUPFD_CLOEXEC, 3);
    if (dup < 0) {
        rc = -errno;
        goto out;
    }
    e->fd = (int)dup;
    e->key_len = (size_t)n;
    e->hash = h;
    e->target = e;
    e->removed = 0;
    e->directory = S_ISDIR(st->st_mode);
    e->library = NULL;
    format_proc_path(e->proc_path, e->fd);
    __atomic_store_n(&e->key, key, __ATOMIC_RELEASE);
    __atomic_store_n(&g_file_count, g_file_count + 1, __ATOMIC_RELEASE);
    g_live_count++;
out:
    /* A first registration that failed leaves nothing to take back: its /dev/null goes too. */
    if (g_live_count == 0 && g_null_fd >= 0) {
        syscall(SYS_close, g_null_fd);
        g_null_fd = -1;
    }
    pthread_mutex_unlock(&g_lock);
    return rc;
}

SL_EXPORT int snaploader_register(const char *original_path, int memfd)
{
    char norm[PATH_MAX];
    long n = api_path(original_path, norm);
    if (n < 0) {
        return (int)n;
    }
    long seals = syscall(SYS_fcntl, memfd, F_GET_SEALS);
    if (seals < 0) {
        return errno == EBADF ? -EBADF : -EPERM;
    }
    const long needed = F_SEAL_WRITE | F_SEAL_SHRINK | F_SEAL_GROW;
    if ((seals & needed) != needed) {
        return -EPERM;
    }
    struct stat st;
    int err = 0;
    if (sl_sys_fstat(memfd, &st, &err) != 0) {
        return -err;
    }
    if (!S_ISREG(st.st_mode)) {
        return -EPERM;
    }
    return register_descriptor(norm, n, memfd, &st);
}

SL_EXPORT int snaploader_register_directory(const char *original_path, int dirfd)
{
    char norm[PATH_MAX];
    long n = api_path(original_path, norm);
    if (n < 0) {
        return (int)n;
    }
    struct stat st;
    int err = 0;
    if (sl_sys_fstat(dirfd, &st, &err) != 0) {
        return -err;
    }
    if (!S_ISDIR(st.st_mode)) {
        return -ENOTDIR;
    }
    return register_descriptor(norm, n, dirfd, &st);
}

/* The live file entry registered at an API caller's path, or NULL (*rc says why). Called with g_lock held. */
static struct sl_entry *registered_file(const char *path, int *rc)
{
    char norm[PATH_MAX];
    long n = api_path(path, norm);
    if (n < 0) {
        *rc = (int)n;
        return NULL;
    }
    struct sl_entry *e = slot_for(g_files, norm, (size_t)n, fnv1a(norm, (size_t)n));
    if (e == NULL || e->key == NULL) {
        *rc = -ENOENT;
        return NULL;
    }
    if (e->directory) {
        *rc = -EISDIR; /* a folder is neither a library nor something a library needs */
        return NULL;
    }
    return e;
}

SL_EXPORT int snaploader_register_library(const char *original_path, const char *load_path, const char *const *needed_paths,
                                          int needed_count)
{
    const char *volatile vload = load_path;
    const char *load = vload;
    if (needed_count < 0 || needed_count > SL_MAX_NEEDED || (needed_count > 0 && needed_paths == NULL)
            || (load != NULL && load[0] != '/')) {
        return -EINVAL;
    }
    if (load != NULL && strlen(load) >= PATH_MAX) {
        return -ENAMETOOLONG;
    }
    int rc = 0;
    pthread_mutex_lock(&g_lock);
    if (g_frozen) {
        rc = -EBUSY;
        goto out;
    }
    struct sl_entry *e = registered_file(original_path, &rc);
    if (e == NULL) {
        goto out;
    }
    const struct sl_entry *needed[SL_MAX_NEEDED];
    for (int i = 0; i < needed_count; i++) {
        needed[i] = registered_file(needed_paths[i], &rc);
        if (needed[i] == NULL) {
            goto out;
        }
    }
    const char *target = load != NULL ? load : e->proc_path;
    if (e->library != NULL) {
        rc = strcmp(e->library->load_path, target) == 0 ? 0 : -EEXIST;
        goto out;
    }
    struct sl_library *lib = arena_alloc(sizeof *lib + (size_t)needed_count * sizeof lib->needed[0]);
    const char *stored = load != NULL ? arena_copy(load, strlen(load)) : e->proc_path;
    if (lib == NULL || stored == NULL) {
        rc = -ENOSPC;
        goto out;
    }
    lib->load_path = stored;
    lib->needed_count = (unsigned int)needed_count;
    memcpy(lib->needed, needed, (size_t)needed_count * sizeof needed[0]);
    __atomic_store_n(&e->library, lib, __ATOMIC_RELEASE);
out:
    pthread_mutex_unlock(&g_lock);
    return rc;
}

SL_EXPORT int snaploader_register_alias(const char *name, const char *original_path)
{
    const char *volatile vname = name;
    const char *alias = vname;
    if (alias == NULL || alias[0] == '\0' || strchr(alias, '/') != NULL
            || strcmp(alias, ".") == 0 || strcmp(alias, "..") == 0) {
        return -EINVAL;
    }
    size_t len = strlen(alias);
    if (len >= NAME_MAX + 1) {
        return -ENAMETOOLONG;
    }
    const char *volatile vpath = original_path;
    const char *path = vpath;
    if (path == NULL || path[0] != '/') {
        return -EINVAL;
    }
    int rc = 0;
    pthread_mutex_lock(&g_lock);
    if (g_frozen) {
        rc = -EBUSY;
        goto out;
    }
    const struct sl_entry *file = sl_lookup_at(AT_FDCWD, path);
    if (file == NULL) {
        rc = -ENOENT;
        goto out;
    }
    if (file->directory) {
        rc = -EISDIR; /* aliases are names for dlopen */
        goto out;
    }
    unsigned long long h = fnv1a(alias, len);
    struct sl_entry *e = slot_for(g_aliases, alias, len, h);
    if (e != NULL && e->key != NULL) {
        rc = e->target == file ? 0 : -EEXIST;
        goto out;
    }
    if (e == NULL || g_alias_count >= SL_MAX_ENTRIES) {
        rc = -ENOSPC;
        goto out;
    }
    const char *key = arena_copy(alias, len);
    if (key == NULL) {
        rc = -ENOSPC;
        goto out;
    }
    e->fd = file->fd;
    e->key_len = len;
    e->hash = h;
    e->target = file;
    memcpy(e->proc_path, file->proc_path, sizeof e->proc_path);
    __atomic_store_n(&e->key, key, __ATOMIC_RELEASE);
    __atomic_store_n(&g_alias_count, g_alias_count + 1, __ATOMIC_RELEASE);
out:
    pthread_mutex_unlock(&g_lock);
    return rc;
}

SL_EXPORT int snaploader_unregister(const char *original_path)
{
    char norm[PATH_MAX];
    long n = api_path(original_path, norm);
    if (n < 0) {
        return (int)n;
    }
    int rc = 0;
    pthread_mutex_lock(&g_lock);
    if (g_frozen) {
        rc = -EBUSY;
        goto out;
    }
    struct sl_entry *e = slot_for(g_files, norm, (size_t)n, fnv1a(norm, (size_t)n));
    if (e == NULL || e->key == NULL) {
        rc = -ENOENT;
        goto out;
    }
    /* A wrapper that found the entry live just before may still be using its descriptor. Once the mark is set and no
     * use remains, nothing will: the descriptor is closed, so a rollback leaves none behind. If uses do not drain
     * (one that never returns), /dev/null goes behind the same number instead (dup3 swaps atomically): the memory
     * file is freed and a late use reads an empty file, never another file that took the number. */
    __atomic_store_n(&e->removed, 1, __ATOMIC_SEQ_CST);
    /* The mark must be seen before the count is read. A sequentially consistent store then load promise that, but
     * qemu-user on x86-64 (how arm64 images run on x86 machines, and how the tests run the arm64 shim) emits STLR
     * then LDAR as a plain store then load, which x86 may reorder: a use could then go uncounted and unstopped.
     * A full fence (DMB ISH) is emulated as one. */
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    if (wait_for_no_use()) {
        syscall(SYS_close, e->fd);
    } else if (syscall(SYS_dup3, g_null_fd, e->fd, O_CLOEXEC) < 0) {
        rc = -errno;
    }
    if (--g_live_count == 0) {
        syscall(SYS_close, g_null_fd);
        g_null_fd = -1;
    }
out:
    pthread_mutex_unlock(&g_lock);
    return rc;
}

SL_EXPORT int snaploader_descriptor(const char *original_path)
{
    int rc = 0;
    pthread_mutex_lock(&g_lock);
    struct sl_entry *e = registered_file(original_path, &rc);
    if (e != NULL) {
        rc = e->fd;
    }
    pthread_mutex_unlock(&g_lock);
    return rc;
}

SL_EXPORT int snaploader_freeze(void)
{
    pthread_mutex_lock(&g_lock);
    g_frozen = 1;
    pthread_mutex_unlock(&g_lock);
    return 0;
}

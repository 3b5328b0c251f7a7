/*
 * C tests of libsnaploader_preload.so. Run as `shim_tests <case>` with LD_PRELOAD=<shim> (CTest does that);
 * `shim_tests --list` prints the cases. The shim's API is found in the global scope, as the runtime does.
 * Every case works under a fresh /tmp/snaploader-ctest-XXXXXX root whose registered files do NOT exist on
 * disk, so a call that passed through instead of being redirected fails.
 */
#include "shim_test.h"

/* Counts allocations while g_count_allocations is set: the lookup path must allocate nothing. The executable's
 * malloc interposes glibc's (and is what the shim would call), and forwards to glibc's own allocator. */
extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
int g_count_allocations;
long g_allocations;
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

reg_fn sl_register;
alias_fn sl_alias;
unreg_fn sl_unregister;
abi_fn sl_freeze;

char g_root[64];      /* /tmp/snaploader-ctest-XXXXXX, exists; g_root/task exists */
char g_path[PATH_MAX]; /* g_root/task/lib.so: registered by setup(), absent from disk */
char g_content[3000];

void *sym(const char *name)
{
    void *p = dlsym(RTLD_DEFAULT, name);
    if (p == NULL) {
        fprintf(stderr, "symbol %s not found\n", name);
        exit(1);
    }
    return p;
}

void api(void)
{
    sl_register = (reg_fn)sym("snaploader_register");
    sl_alias = (alias_fn)sym("snaploader_register_alias");
    sl_unregister = (unreg_fn)sym("snaploader_unregister");
    sl_freeze = (abi_fn)sym("snaploader_freeze");
}

int make_memfd(const char *name, const void *data, size_t len, unsigned int seals)
{
    int fd = (int)syscall(SYS_memfd_create, name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
    CHECK(fd >= 0);
    CHECK(write(fd, data, len) == (ssize_t)len);
    if (seals != 0) {
        CHECK(fcntl(fd, F_ADD_SEALS, seals) == 0);
    }
    return fd;
}

int sealed_memfd(const char *name, const void *data, size_t len)
{
    return make_memfd(name, data, len, F_SEAL_WRITE | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL);
}

void pathf(char *out, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(out, PATH_MAX, fmt, ap);
    va_end(ap);
    CHECK(n > 0 && n < PATH_MAX);
}

/* Creates the root and registers g_path for a memfd with g_content. */
void setup(void)
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

void check_fd_content(int fd)
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

void check_stat(const struct stat *st)
{
    CHECK(S_ISREG(st->st_mode));
    CHECK(st->st_size == (off_t)sizeof g_content);
    CHECK((st->st_mode & 0222) == 0);
}

int count_open_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    CHECK(d != NULL);
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        n += de->d_name[0] != '.';
    }
    closedir(d);
    return n - 1; /* the listing's own */
}

int count_memfds(const char *name, int *last_fd)
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
    {"unregister_without_descriptors", t_unregister_without_descriptors},
    {"unregister_racing", t_unregister_racing},
    {"reregister_racing", t_reregister_racing},
    {"unregister_in_use", t_unregister_in_use},
    {"descriptor", t_descriptor},
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
    {"dlopen_needed_first", t_dlopen_needed_first},
    {"dlopen_variants", t_dlopen_variants},
    {"dlopen_failure_leaves_nothing", t_dlopen_failure_leaves_nothing},
    {"directory", t_directory},
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

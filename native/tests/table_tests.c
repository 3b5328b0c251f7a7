/* The registration table: detection, register/alias/unregister/freeze rules, concurrency, per-process state. */
#include "shim_test.h"

static const char *const k_wrapped[] = {
    "open", "open64", "openat", "openat64", "__open_2", "__open64_2", "__openat_2", "__openat64_2",
    "fopen", "fopen64", "freopen", "freopen64",
    "__xstat", "__xstat64", "__lxstat", "__lxstat64", "__fxstatat", "__fxstatat64",
    "stat", "stat64", "lstat", "lstat64", "fstatat", "fstatat64", "statx",
    "access", "faccessat", "realpath", "__realpath_chk", "canonicalize_file_name", "readlink",
    "dlopen", "dlmopen", "dlerror", "opendir",
    "snaploader_abi_version", "snaploader_register", "snaploader_register_alias", "snaploader_register_library",
    "snaploader_register_directory", "snaploader_descriptor", "snaploader_freeze",
};

void t_preload_detected(void)
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

void t_not_preloaded(void)
{
    CHECK(dlsym(RTLD_DEFAULT, "snaploader_abi_version") == NULL);
    CHECK(dlsym(RTLD_DEFAULT, "snaploader_register") == NULL);
}

void t_register_rules(void)
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

void t_alias_rules(void)
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

void t_unregister(void)
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
    int open_before = count_open_fds();

    char spelled[PATH_MAX];
    pathf(spelled, "%s/task/./x/../lib.so", g_root);
    CHECK(sl_unregister(spelled) == 0);             /* matched after normalisation */
    CHECK(count_memfds("sl-test", NULL) == 0);      /* the memory file is released ... */
    CHECK_ERR(fcntl(shim_fd, F_GETFD), -1, EBADF);  /* ... with its descriptor */
    CHECK(count_open_fds() == open_before - 2);     /* and, with nothing registered, the shim's /dev/null */
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

void t_freeze(void)
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

/* Lookups (hits, misses, relative paths, dirfds) allocate nothing. */
void t_no_allocation(void)
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

void t_concurrency(void)
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

int child_check(int argc, char **argv)
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

void t_child_process(void)
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

void t_unregister_without_descriptors(void)
{
    setup();
    /* A load that ran out of descriptors must still take back what it registered, and leave none of them behind. */
    int shim_fd = -1;
    CHECK(count_memfds("sl-test", &shim_fd) == 1);
    int open_before = count_open_fds();
    struct rlimit saved;
    CHECK(getrlimit(RLIMIT_NOFILE, &saved) == 0);
    int held[4096];
    int count = 0;
    for (int fd; count < 4096 && (fd = open("/dev/null", O_RDONLY)) >= 0;) {
        held[count++] = fd;
    }
    struct rlimit low = saved;
    low.rlim_cur = (rlim_t)held[count - 1] + 1; /* no free number left below the limit */
    CHECK(setrlimit(RLIMIT_NOFILE, &low) == 0);
    errno = 0;
    CHECK(open("/dev/null", O_RDONLY) == -1 && errno == EMFILE); /* precondition: the table is full */

    CHECK(sl_unregister(g_path) == 0);
    struct stat st;
    CHECK_ERR(stat(g_path, &st), -1, ENOENT);

    CHECK(setrlimit(RLIMIT_NOFILE, &saved) == 0);
    for (int i = 0; i < count; i++) {
        close(held[i]);
    }
    CHECK_ERR(fcntl(shim_fd, F_GETFD), -1, EBADF);
    CHECK(count_open_fds() == open_before - 2); /* the memory file's descriptor and /dev/null */
}

/* ---- unregister while other threads use the file */

#define RACE_ROUNDS 200
static char g_race_path[PATH_MAX];
static int g_race_stop;

/* Reads the registered path over and over: the registered byte 'R', or ENOENT once it is taken back; never the
 * byte of a file that took its descriptor number later. */
static void *race_reader(void *arg)
{
    (void)arg;
    while (!__atomic_load_n(&g_race_stop, __ATOMIC_ACQUIRE)) {
        int fd = open(g_race_path, O_RDONLY);
        if (fd < 0) {
            CHECK(errno == ENOENT);
            continue;
        }
        char b = 0;
        CHECK(read(fd, &b, 1) == 1);
        CHECK(b == 'R');
        close(fd);
        struct stat st;
        if (stat(g_race_path, &st) == 0) {
            CHECK(st.st_size == 1);
        } else {
            CHECK(errno == ENOENT);
        }
    }
    return NULL;
}

void t_unregister_racing(void)
{
    setup();
    pathf(g_race_path, "%s/task/race.bin", g_root);
    pthread_t t[3];
    for (int i = 0; i < 3; i++) {
        CHECK(pthread_create(&t[i], NULL, race_reader, NULL) == 0);
    }
    for (int round = 0; round < RACE_ROUNDS; round++) {
        int fd = sealed_memfd("sl-race", "R", 1);
        CHECK(sl_register(g_race_path, fd) == 0);
        close(fd);
        usleep(200);
        CHECK(sl_unregister(g_race_path) == 0);
        /* The freed numbers go to files of another content at once, as they would in a busy process. */
        int other[4];
        for (int i = 0; i < 4; i++) {
            other[i] = sealed_memfd("sl-other", "X", 1);
        }
        usleep(100);
        for (int i = 0; i < 4; i++) {
            close(other[i]);
        }
    }
    __atomic_store_n(&g_race_stop, 1, __ATOMIC_RELEASE);
    for (int i = 0; i < 3; i++) {
        CHECK(pthread_join(t[i], NULL) == 0);
    }
    CHECK(count_memfds("sl-race", NULL) == 0);
}

/* ---- taken back and registered again while other threads open it */

#define AGAIN_ROUNDS 1000
static char g_again_path[PATH_MAX];
static int g_again_stop;

/* Opens a path that always stands: registered ('R'), or on disk ('D') between an unregister and the next register.
 * ENOENT would be a wrapper that found an entry, saw it taken back before its use, and did not look again. */
static void *again_reader(void *arg)
{
    (void)arg;
    while (!__atomic_load_n(&g_again_stop, __ATOMIC_ACQUIRE)) {
        int fd = open(g_again_path, O_RDONLY);
        CHECK(fd >= 0);
        char b = 0;
        CHECK(read(fd, &b, 1) == 1);
        CHECK(b == 'R' || b == 'D');
        close(fd);
        struct stat st;
        CHECK(stat(g_again_path, &st) == 0 && st.st_size == 1);
    }
    return NULL;
}

void t_reregister_racing(void)
{
    setup();
    pathf(g_again_path, "%s/task/again.bin", g_root);
    int disk = open(g_again_path, O_CREAT | O_WRONLY | O_TRUNC, 0644);
    CHECK(disk >= 0 && write(disk, "D", 1) == 1);
    close(disk);
    int fd = sealed_memfd("sl-again", "R", 1);
    pthread_t t[3];
    for (int i = 0; i < 3; i++) {
        CHECK(pthread_create(&t[i], NULL, again_reader, NULL) == 0);
    }
    for (int round = 0; round < AGAIN_ROUNDS; round++) {
        CHECK(sl_register(g_again_path, fd) == 0);
        CHECK(sl_unregister(g_again_path) == 0);
    }
    __atomic_store_n(&g_again_stop, 1, __ATOMIC_RELEASE);
    for (int i = 0; i < 3; i++) {
        CHECK(pthread_join(t[i], NULL) == 0);
    }
    close(fd);
    CHECK(count_memfds("sl-again", NULL) == 0);
}

/* ---- unregister while a use does not end: the descriptor is kept, on /dev/null */

static int g_slow_started = -1; /* the pipe's write end: 's' from the constructor, 'f' when the dlopen failed */

static void *slow_dlopen(void *path)
{
    void *h = dlopen((const char *)path, RTLD_NOW); /* the library's constructor sleeps 600 ms */
    if (h == NULL) {
        (void)!write(g_slow_started, "f", 1); /* no constructor ran: the test must fail, not wait for it */
    }
    return h;
}

void t_unregister_in_use(void)
{
    setup();
    char p[PATH_MAX];
    pathf(p, "%s/task/libslow.so", g_root);
    int fd = memfd_of_file("sl-slow", SL_FIXTURE_DIR "/libslow.so");
    CHECK(sl_register(p, fd) == 0);
    close(fd);
    int shim_fd = -1;
    CHECK(count_memfds("sl-slow", &shim_fd) == 1);
    int started[2];
    CHECK(pipe(started) == 0);
    char started_fd[16];
    snprintf(started_fd, sizeof started_fd, "%d", started[1]);
    setenv("SL_SLOW_STARTED_FD", started_fd, 1);
    g_slow_started = started[1];
    pthread_t t;
    CHECK(pthread_create(&t, NULL, slow_dlopen, p) == 0);
    char byte = 0;
    CHECK(read(started[0], &byte, 1) == 1);
    CHECK(byte == 's'); /* the dlopen is in the constructor now, holding its use of the descriptor */
    unsetenv("SL_SLOW_STARTED_FD");
    close(started[0]);
    close(started[1]);
    CHECK(sl_unregister(p) == 0);
    /* The use did not end within the wait: the number now refers to /dev/null, never to a later file. */
    char target[PATH_MAX], proc[64];
    snprintf(proc, sizeof proc, "/proc/self/fd/%d", shim_fd);
    ssize_t n = readlink(proc, target, sizeof target - 1);
    CHECK(n > 0);
    target[n] = '\0';
    CHECK(strcmp(target, "/dev/null") == 0);
    void *h = NULL;
    CHECK(pthread_join(t, &h) == 0);
    CHECK(h != NULL); /* the load that was under way completes, from the memory it had mapped */
    CHECK_ERR(stat(p, &(struct stat){0}), -1, ENOENT);
}

void t_descriptor(void)
{
    setup();
    typedef int (*desc_fn)(const char *);
    desc_fn desc = (desc_fn)sym("snaploader_descriptor");
    int fd = desc(g_path);
    CHECK(fd >= 3);
    CHECK(lseek(fd, 0, SEEK_SET) == 0); /* its offset is the memfd's, shared with every duplicate */
    check_fd_content(fd);              /* the shim's copy reads the registered content */
    struct stat a, b;
    CHECK(fstat(fd, &a) == 0 && stat(g_path, &b) == 0 && a.st_ino == b.st_ino);
    char other[PATH_MAX];
    pathf(other, "%s/task/none.so", g_root);
    CHECK(desc(other) == -ENOENT);
    CHECK(desc("relative") == -EINVAL);
    CHECK(sl_unregister(g_path) == 0);
    CHECK(desc(g_path) == -ENOENT);
}

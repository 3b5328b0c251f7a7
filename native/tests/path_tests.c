/* Path matching: normalisation, relative paths, long cwds, NULL paths, no basename fallback, passthrough. */
#include "shim_test.h"

void t_normalisation(void)
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

void t_relative_cwd(void)
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

void t_relative_dirfd(void)
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
void t_long_cwd(void)
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

void t_null_paths(void)
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

void t_no_basename_fallback(void)
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

void t_passthrough(void)
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

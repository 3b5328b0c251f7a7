/* dlopen of registered paths and the tail call that keeps $ORIGIN of the caller. */
#include "shim_test.h"

/* ---- dlopen */

int memfd_of_file(const char *name, const char *file)
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

void t_dlopen_registered(void)
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

void t_dlopen_runpath_tailcall(void)
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

/* Registers the fixture file as original path p (memfd named name). */
static void register_fixture(const char *p, const char *name, const char *file)
{
    CHECK(sl_register(p, memfd_of_file(name, file)) == 0);
}

typedef int (*reglib_fn)(const char *, const char *, const char *const *, int);

void t_dlopen_needed_first(void)
{
    setup();
    reglib_fn reglib = (reglib_fn)sym("snaploader_register_library");
    char user[PATH_MAX], var[PATH_MAX];
    pathf(user, "%s/task/libuser.so", g_root);
    pathf(var, "%s/task/libvar.so", g_root);
    register_fixture(user, "sl-user", SL_FIXTURE_DIR "/libuser.so");
    /* libvar.so is not on disk anywhere the loader looks: without the declaration, libuser.so cannot load */
    CHECK(dlopen(user, RTLD_NOW) == NULL);
    register_fixture(var, "sl-var", SL_FIXTURE_DIR "/a/libvar.so");
    const char *needs[] = {var};
    CHECK(reglib(user, NULL, needs, -1) == -EINVAL);
    CHECK(reglib(user, "relative/libuser.so", needs, 1) == -EINVAL);
    char unregistered[PATH_MAX];
    pathf(unregistered, "%s/task/libnone.so", g_root);
    const char *bad[] = {unregistered};
    CHECK(reglib(user, NULL, bad, 1) == -ENOENT);
    CHECK(reglib(unregistered, NULL, needs, 1) == -ENOENT);
    CHECK(reglib(var, NULL, NULL, 0) == 0);
    CHECK(reglib(user, NULL, needs, 1) == 0);
    CHECK(reglib(user, NULL, needs, 1) == 0);                    /* the same declaration again */
    CHECK(reglib(user, "/elsewhere/libuser.so", needs, 1) == -EEXIST);
    /* declared, nothing loads before something opens it; RTLD_NOLOAD loads nothing either */
    CHECK(dlopen(var, RTLD_NOW | RTLD_NOLOAD) == NULL);
    CHECK(dlopen(user, RTLD_NOW | RTLD_NOLOAD) == NULL);
    CHECK(dlopen(var, RTLD_NOW | RTLD_NOLOAD) == NULL);
    void *h = dlopen(user, RTLD_NOW);
    if (h == NULL) {
        fprintf(stderr, "dlopen: %s\n", dlerror());
    }
    CHECK(h != NULL);
    int (*value)(void) = (int (*)(void))dlsym(h, "sl_user_value");
    CHECK(value != NULL && value() == 10);
    CHECK(dlopen(var, RTLD_NOW | RTLD_NOLOAD) != NULL); /* it came first */
}

/* The variant pair: a/ and b/ each hold a libuser.so and a libvar.so, both libvar.so with one SONAME. */
struct variants {
    char a_user[PATH_MAX], a_var[PATH_MAX], b_user[PATH_MAX], b_var[PATH_MAX];
};

/* Registers the four files; a's libuser.so comes from a_user_fixture. */
static void register_variants(struct variants *v, const char *a_user_memfd, const char *a_user_fixture)
{
    pathf(v->a_user, "%s/task/a/libuser.so", g_root);
    pathf(v->a_var, "%s/task/a/libvar.so", g_root);
    pathf(v->b_user, "%s/task/b/libuser.so", g_root);
    pathf(v->b_var, "%s/task/b/libvar.so", g_root);
    register_fixture(v->a_user, a_user_memfd, a_user_fixture);
    register_fixture(v->a_var, "sl-a-var", SL_FIXTURE_DIR "/a/libvar.so");
    register_fixture(v->b_user, "sl-b-user", SL_FIXTURE_DIR "/libuser.so");
    register_fixture(v->b_var, "sl-b-var", SL_FIXTURE_DIR "/b/libvar.so");
}

/* Declares each libuser.so to need its own folder's libvar.so; b's libvar.so loads from b_var_load (NULL: proc path). */
static void declare_variants(const struct variants *v, const char *b_var_load)
{
    reglib_fn reglib = (reglib_fn)sym("snaploader_register_library");
    const char *a_needs[] = {v->a_var};
    const char *b_needs[] = {v->b_var};
    CHECK(reglib(v->a_var, NULL, NULL, 0) == 0);
    CHECK(reglib(v->a_user, NULL, a_needs, 1) == 0);
    CHECK(reglib(v->b_var, b_var_load, NULL, 0) == 0);
    CHECK(reglib(v->b_user, NULL, b_needs, 1) == 0);
}

void t_dlopen_variants(void)
{
    setup();
    /* Two folders ship the same two libraries; variant b's libuser.so must bind to b's libvar.so, and a's stays
     * unloaded, though both libvar.so have one SONAME. b's load path is a link in a folder of links. */
    struct variants v;
    register_variants(&v, "sl-a-user", SL_FIXTURE_DIR "/libuser.so");
    char links[PATH_MAX], b_var_link[PATH_MAX], target[64];
    pathf(links, "%s/links", g_root);
    CHECK(mkdir(links, 0700) == 0);
    pathf(links, "%s/links/b", g_root);
    CHECK(mkdir(links, 0700) == 0);
    pathf(b_var_link, "%s/libvar.so", links);
    int b_var_fd = -1;
    CHECK(count_memfds("sl-b-var", &b_var_fd) >= 1);
    snprintf(target, sizeof target, "/proc/self/fd/%d", b_var_fd);
    CHECK(symlink(target, b_var_link) == 0);
    declare_variants(&v, b_var_link);

    void *h = dlopen(v.b_user, RTLD_NOW);
    CHECK(h != NULL);
    int (*value)(void) = (int (*)(void))dlsym(h, "sl_user_value");
    CHECK(value != NULL && value() == 20);
    CHECK(dlopen(v.a_var, RTLD_NOW | RTLD_NOLOAD) == NULL);
    CHECK(dlopen(b_var_link, RTLD_NOW | RTLD_NOLOAD) != NULL);
    /* the variant is mapped from the link's folder: its $ORIGIN is that folder */
    Dl_info info;
    CHECK(dladdr((void *)value, &info) != 0);
    void *var_sym = dlsym(h, "sl_var_value");
    CHECK(var_sym != NULL && dladdr(var_sym, &info) != 0 && strcmp(info.dli_fname, b_var_link) == 0);
}

void t_dlopen_failure_leaves_nothing(void)
{
    setup();
    /* a's library cannot load (it also needs a library nothing provides); b's must still bind to b's libvar.so, not
     * to the a/libvar.so loaded for the failed attempt, as from disk, where the failed load would leave nothing. */
    struct variants v;
    register_variants(&v, "sl-a-user-missing", SL_FIXTURE_DIR "/libuser_missing.so");
    declare_variants(&v, NULL);

    CHECK(dlopen(v.a_user, RTLD_NOW) == NULL);
    const char *why = dlerror();
    CHECK(why != NULL && strstr(why, "libmissing.so") != NULL); /* the loader's own reason reaches the caller */
    CHECK(dlopen(v.a_var, RTLD_NOW | RTLD_NOLOAD) == NULL);         /* nothing of the failed attempt stays */
    void *h = dlopen(v.b_user, RTLD_NOW);
    CHECK(h != NULL);
    int (*value)(void) = (int (*)(void))dlsym(h, "sl_user_value");
    CHECK(value != NULL && value() == 20);
}

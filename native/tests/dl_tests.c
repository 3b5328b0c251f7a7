/* dlopen of registered paths and the tail call that keeps $ORIGIN of the caller. */
#include "shim_test.h"

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

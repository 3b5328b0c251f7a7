#!/usr/bin/env python3
"""Mutation check of the C tests: for every interposed entry point, builds a copy of native/ in which that wrapper
never matches (it always passes through, or for dlopen never redirects), runs the C tests against it, and reports
which tests caught it. Exit 1 when a mutant survives (no test failed).
Usage: native/tests/mutate.py [workdir] [name ...]"""
import os, re, shutil, subprocess, sys

NATIVE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WRAPPERS = ["open", "open64", "openat", "openat64", "__open_2", "__open64_2", "__openat_2", "__openat64_2",
            "fopen", "fopen64", "freopen", "freopen64",
            "__xstat", "__xstat64", "__lxstat", "__lxstat64", "__fxstatat", "__fxstatat64",
            "stat", "stat64", "lstat", "lstat64", "fstatat", "fstatat64", "statx",
            "access", "faccessat", "realpath", "__realpath_chk", "canonicalize_file_name", "readlink",
            "dlopen", "dlmopen"]


def mutate_source(text, name):
    """Returns text with wrapper `name` disabled, or None when name is not defined in text."""
    # Macro-generated stat wrappers: replace the instantiation by a pass-through definition.
    m = re.search(r"^OLD_ABI\(%s, [^\n]*\)$" % re.escape(name), text, re.M)
    if m:
        return text.replace(m.group(0), "OLD_ABI(%s, NULL)" % name)
    m = re.search(r"^OLD_ABI_AT\(%s\)$" % re.escape(name), text, re.M)
    if m:
        return text.replace(m.group(0),
            "SL_EXPORT int %s(int ver, int dirfd, const char *path, struct stat *buf, int flags)"
            " { return SL_REAL(fxstatat_fn, %s)(ver, dirfd, path, buf, flags); }" % (name, name))
    m = re.search(r"^NEW_ABI\(%s, (\w+), \w+\)$" % re.escape(name), text, re.M)
    if m:
        return text.replace(m.group(0),
            "SL_EXPORT int %s(const char *path, struct %s *buf) { return SL_REAL(stat_fn, %s)(path, (struct stat *)buf); }"
            % (name, m.group(1), name))
    m = re.search(r"^NEW_ABI_AT\(%s, (\w+), \w+\)$" % re.escape(name), text, re.M)
    if m:
        return text.replace(m.group(0),
            "SL_EXPORT int %s(int dirfd, const char *path, struct %s *buf, int flags)"
            " { return SL_REAL(fstatat_fn, %s)(dirfd, path, (struct stat *)buf, flags); }" % (name, m.group(1), name))
    # Plain wrappers: the first lookup in the function body answers "not registered".
    m = re.search(r"^SL_EXPORT [^\n;]*\b%s\([^\n;]*\)\n\{\n" % re.escape(name), text, re.M)
    if not m:
        return None
    end = text.index("\n}\n", m.end())
    body = text[m.end():end]
    new = re.sub(r"(__OPEN_NEEDS_MODE\(flags\) \? NULL : )?(sl_lookup_at|lookup_at)\([^;]*\)", "NULL", body, count=1)
    if new == body:
        new = body.replace("dl_target(file)", "file")
    if new == body:
        raise SystemExit("no lookup found in " + name)
    return text[:m.end()] + new + text[end:]


def main():
    work = sys.argv[1] if len(sys.argv) > 1 else "/tmp/snaploader-mutants"
    names = sys.argv[2:] or WRAPPERS
    survivors = []
    for name in names:
        src = os.path.join(work, name, "src")
        shutil.rmtree(os.path.join(work, name), ignore_errors=True)
        shutil.copytree(NATIVE, os.path.join(work, name, "src"), ignore=shutil.ignore_patterns("build"))
        done = False
        for f in os.listdir(os.path.join(src, "src")):
            path = os.path.join(src, "src", f)
            if not f.endswith(".c"):
                continue
            text = open(path).read()
            new = mutate_source(text, name)
            if new is not None:
                open(path, "w").write(new)
                done = True
                break
        if not done:
            raise SystemExit("wrapper not found: " + name)
        build = os.path.join(work, name, "build")
        subprocess.run(["cmake", "-S", src, "-B", build, "-DCMAKE_BUILD_TYPE=Release"], check=True, stdout=subprocess.DEVNULL)
        subprocess.run(["cmake", "--build", build, "--parallel"], check=True, stdout=subprocess.DEVNULL)
        r = subprocess.run(["ctest", "--test-dir", build, "-E", "^not_preloaded$"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        failed = re.findall(r"^\s*\d+ - (\S+) \(", r.stdout, re.M)
        print("%-24s caught by: %s" % (name, ", ".join(failed) if failed else "NOTHING (survived)"), flush=True)
        if not failed:
            survivors.append(name)
    if survivors:
        print("survivors: " + ", ".join(survivors))
        return 1
    print("all %d mutants caught" % len(names))
    return 0


if __name__ == "__main__":
    sys.exit(main())

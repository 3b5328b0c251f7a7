#!/usr/bin/env python3
"""Mutation check of the C tests: for every interposed entry point, builds a copy of native/ in which that wrapper
never matches (it always passes through, or for dlopen never redirects), runs the C tests against it, and reports
which tests caught it (a test that hangs for 60 s counts as failed). Exit 1 when a mutant survives (no test failed).
Usage: native/tests/mutate.py [workdir] [name ...]"""
import os, re, shutil, subprocess, sys

NATIVE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WRAPPERS = ["open", "open64", "openat", "openat64", "__open_2", "__open64_2", "__openat_2", "__openat64_2",
            "fopen", "fopen64", "freopen", "freopen64",
            "__xstat", "__xstat64", "__lxstat", "__lxstat64", "__fxstatat", "__fxstatat64",
            "stat", "stat64", "lstat", "lstat64", "fstatat", "fstatat64", "statx",
            "access", "faccessat", "realpath", "__realpath_chk", "canonicalize_file_name", "readlink",
            "dlopen", "dlmopen"]


# The lookups a wrapper can start with; a mutant shadows them all with "not registered" around one definition.
LOOKUPS = {"sl_lookup_at": "dirfd, path", "lookup_at": "dirfd, path, flags", "dl_entry": "file"}


def definition(text, name):
    """(start, end) of the text that defines wrapper `name`: a family macro's line (`OPEN(open)`), an SL_WRAP, or a
    function written out; None when text does not define it."""
    n = re.escape(name)
    m = re.search(r"^[A-Z][A-Z0-9_]*\(%s(, [^\n]*)?\)$" % n, text, re.M)
    if m and not m.group(0).startswith("SL_WRAP("):
        return m.start(), m.end()
    m = re.search(r"^SL_WRAP\([^,\n]+, %s, " % n, text, re.M)
    if m:
        depth = 0
        for i in range(m.start(), len(text)):
            depth += {"(": 1, ")": -1}.get(text[i], 0)
            if text[i] == ")" and depth == 0:
                return m.start(), i + 1
    m = re.search(r"^SL_EXPORT [^\n;]*\b%s\([^\n;]*\)\n\{\n" % n, text, re.M)
    if m:
        return m.start(), text.index("\n}\n", m.end()) + 2
    return None


def mutate_source(text, name):
    """Returns text with wrapper `name` disabled, or None when name is not defined in text."""
    span = definition(text, name)
    if span is None:
        return None
    start, end = span
    body = text[start:end]
    family = re.match(r"([A-Z][A-Z0-9_]*)\(", body)
    if family and family.group(1) != "SL_WRAP":  # the lookup may be in the family macro's definition
        m = re.search(r"^#define %s\(.*?[^\\]$" % family.group(1), text, re.M | re.S)
        body += m.group(0) if m else ""
    if not any(re.search(r"\b%s\(" % f, body) for f in LOOKUPS):
        raise SystemExit("no lookup found in " + name)
    shadow = "".join("#define %s(%s) ((const struct sl_entry *)NULL)\n" % (f, a) for f, a in LOOKUPS.items())
    unshadow = "".join("\n#undef %s" % f for f in LOOKUPS)
    return text[:start] + shadow + text[start:end] + unshadow + text[end:]


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
        r = subprocess.run(["ctest", "--test-dir", build, "-E", "^not_preloaded$", "--timeout", "60"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
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

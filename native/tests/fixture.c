/* A library the tests put into a memfd and dlopen by its original path. */
__attribute__((visibility("default"))) int sl_fixture_answer(void) { return 42; }

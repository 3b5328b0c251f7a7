/* sub/libdep.so: only reachable through libcaller.so's RUNPATH $ORIGIN/sub. */
__attribute__((visibility("default"))) int sl_dep_answer(void) { return 7; }

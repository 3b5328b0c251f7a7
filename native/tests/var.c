/* a/libvar.so and b/libvar.so: two variants of one library with the same SONAME, as CPU-variant folders ship. */
#ifndef SL_VARIANT
#error SL_VARIANT must be defined
#endif
__attribute__((visibility("default"))) int sl_var_value(void) { return SL_VARIANT; }

/* libuser.so: needs libvar.so (by SONAME, no RUNPATH), so it binds to whichever variant is loaded. */
int sl_var_value(void);
__attribute__((visibility("default"))) int sl_user_value(void) { return sl_var_value() * 10; }

/* Preloaded (LD_PRELOAD) into every process of the sanitized test runs (scripts/test
 * --sanitize). Built by scripts/build-sanitized without sanitizers: it is loaded into
 * uninstrumented programs such as mpirun as well. It changes no result.
 *
 * dlclose does nothing. Open MPI loads its components (mca_*.so) with dlopen and unloads them
 * in MPI_Finalize; LeakSanitizer reports at exit, when their code is gone, so a block one of
 * them never freed has an "<unknown module>" stack that no suppression can match. Kept
 * loaded, such a block names its component, and lsan.supp can tell Open MPI's from Crema's.
 *
 * logl remembers its last results. libstdc++'s std::generate_canonical, under every
 * std::normal_distribution and uniform_real_distribution draw (the weight fillers), takes
 * logl of two constants at each call; g++ folds them at compile time, clang does not, and the
 * libm calls were three quarters of the sanitized suite's time in the tests that build the
 * large example nets. */
#define _GNU_SOURCE
#include <dlfcn.h>

int dlclose(void* handle) {
  (void)handle;
  return 0;
}

// Per thread, so no lock is needed; initial-exec, so reaching them is not a call (a preloaded
// library is loaded at start-up, which that model requires).
#define CREMA_TLS __thread __attribute__((tls_model("initial-exec")))

long double logl(long double x) {
  static long double (*real_logl)(long double);
  static CREMA_TLS long double seen_x[2];
  static CREMA_TLS long double seen_log[2];
  static CREMA_TLS int seen;
  static CREMA_TLS int next;
  for (int i = 0; i < seen; ++i) {
    if (seen_x[i] == x) return seen_log[i];
  }
  if (real_logl == 0) real_logl = (long double (*)(long double))dlsym(RTLD_NEXT, "logl");
  const long double y = real_logl(x);
  seen_x[next] = x;
  seen_log[next] = y;
  next = 1 - next;
  if (seen < 2) ++seen;
  return y;
}

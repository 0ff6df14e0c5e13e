/* The CPU's vector instruction sets and the OpenBLAS kernel core that fits
 * them: detection here, the decision in mx_blas_core_advice (a pure function,
 * unit-tested over CPU x core x environment cases in tests/unit/test_cpu.c).
 * Why it matters: include/merx/cpu.h. */
#include "merx/cpu.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

/* OpenBLAS's own entry points (cblas.h declares them, but the util layer
 * needs only these two). */
char *openblas_get_corename(void);
char *openblas_get_config(void);

void mx_cpu_simd_detect(mx_cpu_simd *out) {
  memset(out, 0, sizeof *out);
#if (defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__)
  /* libgcc's CPUID reading also checks the OS enabled the YMM/ZMM state
   * (XGETBV), so a feature reported here is usable. */
  __builtin_cpu_init();
  out->avx = __builtin_cpu_supports("avx") != 0;
  out->avx2 = __builtin_cpu_supports("avx2") != 0;
  out->fma = __builtin_cpu_supports("fma") != 0;
  out->avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512cd") &&
                __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq") &&
                __builtin_cpu_supports("avx512vl");
#endif
}

char *mx_cpu_simd_string(const mx_cpu_simd *cpu, char *buf, size_t n) {
  if (!n) return buf;
  snprintf(buf, n, "%s%s%s%s", cpu->avx ? "avx " : "", cpu->avx2 ? "avx2 " : "",
           cpu->fma ? "fma " : "", cpu->avx512 ? "avx512 " : "");
  size_t len = strlen(buf);
  if (len && buf[len - 1] == ' ') buf[len - 1] = '\0';
  else if (!len) snprintf(buf, n, "sse");
  return buf;
}

const char *mx_blas_core(void) {
  const char *c = openblas_get_corename();
  return c ? c : "unknown";
}

int mx_blas_dynamic(void) {
  const char *c = openblas_get_config();
  return c && strstr(c, "DYNAMIC_ARCH") != NULL;
}

/* The widest vector set each OpenBLAS x86 core's kernels use (the names of
 * OpenBLAS driver/others/dynamic.c): 0 SSE, 1 AVX, 2 AVX2 + FMA, 3 AVX-512.
 * Bulldozer..Excavator have AVX (some FMA) but no AVX2. */
static int core_level(const char *core) {
  static const struct {
    const char *name;
    int level;
  } cores[] = {
      {"Katmai", 0},      {"Coppermine", 0}, {"Northwood", 0},  {"Prescott", 0},
      {"Banias", 0},      {"Atom", 0},       {"Core2", 0},      {"Penryn", 0},
      {"Dunnington", 0},  {"Nehalem", 0},    {"Athlon", 0},     {"Opteron", 0},
      {"Opteron_SSE3", 0}, {"Barcelona", 0}, {"Nano", 0},       {"Bobcat", 0},
      {"Sandybridge", 1}, {"Bulldozer", 1},  {"Piledriver", 1}, {"Steamroller", 1},
      {"Excavator", 1},   {"Haswell", 2},    {"Zen", 2},        {"SkylakeX", 3},
      {"Cooperlake", 3},  {"SapphireRapids", 3},
  };
  for (size_t i = 0; i < sizeof cores / sizeof cores[0]; i++)
    if (strcasecmp(core, cores[i].name) == 0) return cores[i].level;
  return -1;
}

static int cpu_level(const mx_cpu_simd *cpu) {
  if (cpu->avx512 && cpu->avx2 && cpu->fma) return 3;
  if (cpu->avx2 && cpu->fma) return 2;
  if (cpu->avx) return 1;
  return 0;
}

const char *mx_blas_core_advice(const mx_cpu_simd *cpu, const char *core, const char *env_value,
                                int dynamic) {
  if (env_value || !dynamic || !cpu || !core) return NULL;
  int have = core_level(core);
  if (have < 0) return NULL; /* a core merx does not know: trust OpenBLAS */
  int want = cpu_level(cpu);
  if (have >= want) return NULL;
  static const char *const safe[] = {NULL, "Sandybridge", "Haswell", "SkylakeX"};
  return safe[want];
}

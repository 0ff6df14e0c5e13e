/* mx_blas_core_advice: which OPENBLAS_CORETYPE merx starts again with, over
 * (CPU vector sets, the core OpenBLAS chose, the user's environment, build)
 * cases, including the Xeon of issue #21 (AVX-512, Prescott chosen). The
 * function is pure, so every case runs on any machine. */
#include "testutil.h"

#include <string.h>

#include "merx/cpu.h"

static const mx_cpu_simd sse = {0, 0, 0, 0};
static const mx_cpu_simd avx = {1, 0, 0, 0};
static const mx_cpu_simd avx2_no_fma = {1, 1, 0, 0};
static const mx_cpu_simd avx2 = {1, 1, 1, 0};
static const mx_cpu_simd avx512 = {1, 1, 1, 1};

static void expect(const mx_cpu_simd *cpu, const char *core, const char *env, int dynamic,
                   const char *want) {
  const char *got = mx_blas_core_advice(cpu, core, env, dynamic);
  if (!core) core = "(null)";
  if (!want) {
    if (got) fail_msg("core %s env %s: expected no change, got %s", core, env ? env : "(unset)", got);
  } else {
    if (!got || strcmp(got, want) != 0)
      fail_msg("core %s env %s: expected %s, got %s", core, env ? env : "(unset)", want,
               got ? got : "no change");
  }
}

static void test_prescott_on_avx512_xeon_gets_skylakex(void **state) {
  (void)state;
  expect(&avx512, "Prescott", NULL, 1, "SkylakeX");
  expect(&avx512, "Core2", NULL, 1, "SkylakeX");
  expect(&avx512, "prescott", NULL, 1, "SkylakeX"); /* names compare without case */
  /* Haswell kernels on an AVX-512 CPU (an older OpenBLAS on Zen 4) leave 512-bit
   * vectors unused too. */
  expect(&avx512, "Haswell", NULL, 1, "SkylakeX");
}

static void test_prescott_on_avx2_gets_haswell(void **state) {
  (void)state;
  expect(&avx2, "Prescott", NULL, 1, "Haswell");
  expect(&avx2, "Sandybridge", NULL, 1, "Haswell");
  expect(&avx2, "Nehalem", NULL, 1, "Haswell");
  expect(&avx, "Prescott", NULL, 1, "Sandybridge");
  /* AVX2 without FMA (a VIA or a hypervisor masking FMA): Haswell kernels
   * would fault, AVX ones are safe. */
  expect(&avx2_no_fma, "Prescott", NULL, 1, "Sandybridge");
}

static void test_matching_core_left_alone(void **state) {
  (void)state;
  expect(&avx2, "Haswell", NULL, 1, NULL);
  expect(&avx2, "Zen", NULL, 1, NULL);
  expect(&avx512, "SkylakeX", NULL, 1, NULL);
  expect(&avx512, "Cooperlake", NULL, 1, NULL);
  expect(&avx512, "SapphireRapids", NULL, 1, NULL);
  expect(&sse, "Prescott", NULL, 1, NULL);
  expect(&avx, "Sandybridge", NULL, 1, NULL);
  /* A core wider than the CPU (forced by someone, or a hypervisor masking
   * flags) is not "repaired" downwards: OpenBLAS knows its own checks. */
  expect(&avx2, "SkylakeX", NULL, 1, NULL);
}

static void test_user_value_never_overridden(void **state) {
  (void)state;
  expect(&avx512, "Prescott", "Prescott", 1, NULL);
  expect(&avx512, "Prescott", "Haswell", 1, NULL);
  expect(&avx512, "Prescott", "", 1, NULL); /* set, even empty */
}

static void test_unknown_core_or_fixed_build_left_alone(void **state) {
  (void)state;
  expect(&avx512, "Prescott", NULL, 0, NULL); /* not DYNAMIC_ARCH: the variable is ignored */
  expect(&avx512, "NEOVERSEN1", NULL, 1, NULL);
  expect(&avx512, "Unknown", NULL, 1, NULL);
  expect(&avx512, NULL, NULL, 1, NULL);
  assert_null(mx_blas_core_advice(NULL, "Prescott", NULL, 1));
}

static void test_simd_string(void **state) {
  (void)state;
  char buf[64];
  assert_string_equal(mx_cpu_simd_string(&avx512, buf, sizeof buf), "avx avx2 fma avx512");
  assert_string_equal(mx_cpu_simd_string(&sse, buf, sizeof buf), "sse");
  assert_string_equal(mx_cpu_simd_string(&avx512, buf, 4), "avx");
  /* The process's own view is consistent: AVX-512 implies AVX2 and FMA here. */
  mx_cpu_simd cpu;
  mx_cpu_simd_detect(&cpu);
  if (cpu.avx512) assert_true(cpu.avx2 && cpu.fma);
  if (cpu.avx2) assert_true(cpu.avx);
  assert_non_null(mx_blas_core());
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_prescott_on_avx512_xeon_gets_skylakex),
      cmocka_unit_test(test_prescott_on_avx2_gets_haswell),
      cmocka_unit_test(test_matching_core_left_alone),
      cmocka_unit_test(test_user_value_never_overridden),
      cmocka_unit_test(test_unknown_core_or_fixed_build_left_alone),
      cmocka_unit_test(test_simd_string),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

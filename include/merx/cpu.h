/* merx — the CPU's vector instructions and the BLAS kernels chosen for them
 * (util layer).
 *
 * OpenBLAS built with DYNAMIC_ARCH (Debian's, Ubuntu's) picks its kernels
 * once, when the library is loaded, from the CPUID model. On CPUs it does not
 * know (a new Xeon reporting a generic model) it falls back to its Prescott
 * kernels (SSE3 only): sgemm then runs 2-4x slower and nothing says so. The
 * choice can only be changed by OPENBLAS_CORETYPE in the environment before
 * OpenBLAS initialises, that is before the process starts. The merx CLI
 * does this for you: it re-executes itself once with OPENBLAS_CORETYPE set
 * when mx_blas_core_advice() says so, and says so on stderr. A program that
 * links libmerx can do the same at the top of main():
 *
 *     mx_cpu_simd cpu; mx_cpu_simd_detect(&cpu);
 *     const char *core = mx_blas_core_advice(&cpu, mx_blas_core(),
 *                                            getenv("OPENBLAS_CORETYPE"),
 *                                            mx_blas_dynamic());
 *     if (core) { setenv("OPENBLAS_CORETYPE", core, 1); execv("/proc/self/exe", argv); }
 *
 * or simply start with OPENBLAS_CORETYPE=Haswell (AVX2 + FMA) or SkylakeX
 * (AVX-512) set. A value the user set is never overridden. */
#ifndef MERX_CPU_H
#define MERX_CPU_H

#include "merx/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Vector instruction sets the CPU has and the OS has enabled (XSAVE state). */
typedef struct mx_cpu_simd {
  int avx;    /* AVX */
  int avx2;   /* AVX2 */
  int fma;    /* FMA3 */
  int avx512; /* AVX-512 F, CD, BW, DQ and VL: what Skylake-X kernels use */
} mx_cpu_simd;

MX_API void mx_cpu_simd_detect(mx_cpu_simd *out);
/* "avx2 fma avx512"-style list of what cpu has ("sse" when none of them);
 * writes at most n bytes including the NUL. Returns buf. */
MX_API char *mx_cpu_simd_string(const mx_cpu_simd *cpu, char *buf, size_t n);

/* The kernel core OpenBLAS chose in this process ("Haswell", "Prescott",
 * ...; borrowed, static). */
MX_API const char *mx_blas_core(void);
/* 1 when this OpenBLAS was built with DYNAMIC_ARCH, so OPENBLAS_CORETYPE is
 * honoured; 0 otherwise. */
MX_API int mx_blas_dynamic(void);

/* The OPENBLAS_CORETYPE value to start a process with, or NULL to leave
 * things as they are. Pure: decides from its arguments only.
 *   cpu       what the CPU has (mx_cpu_simd_detect)
 *   core      the core OpenBLAS chose (mx_blas_core); names merx does not
 *             know give NULL
 *   env_value OPENBLAS_CORETYPE as the user set it, NULL when unset: any set
 *             value (even empty) gives NULL
 *   dynamic   mx_blas_dynamic(): a fixed-arch build ignores the variable
 * It returns a core whose kernels use the widest vector set the CPU has
 * ("SkylakeX" for AVX-512, "Haswell" for AVX2 + FMA, "Sandybridge" for AVX)
 * when the chosen core's kernels use a narrower one. A DYNAMIC_ARCH build
 * made without AVX-512 kernels maps SkylakeX to its Haswell kernels, so the
 * advice is safe for every such build. */
MX_API const char *mx_blas_core_advice(const mx_cpu_simd *cpu, const char *core,
                                       const char *env_value, int dynamic);

#ifdef __cplusplus
}
#endif

#endif

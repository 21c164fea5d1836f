CMakeFiles/hicache.dir/src/synth.c.o: /work/main/src/synth.c \
 /usr/include/stdc-predef.h /work/main/src/synth.h \
 /work/main/src/status.h /usr/include/stdio.h \
 /usr/include/x86_64-linux-gnu/bits/libc-header-start.h \
 /usr/include/features.h /usr/include/features-time64.h \
 /usr/include/x86_64-linux-gnu/bits/wordsize.h \
 /usr/include/x86_64-linux-gnu/bits/timesize.h \
 /usr/include/x86_64-linux-gnu/sys/cdefs.h \
 /usr/include/x86_64-linux-gnu/bits/long-double.h \
 /usr/include/x86_64-linux-gnu/gnu/stubs.h \
 /usr/include/x86_64-linux-gnu/gnu/stubs-64.h \
 /usr/lib/gcc/x86_64-linux-gnu/12/include/stddef.h \
 /usr/lib/gcc/x86_64-linux-gnu/12/include/stdarg.h \
 /usr/include/x86_64-linux-gnu/bits/types.h \
 /usr/include/x86_64-linux-gnu/bits/typesizes.h \
 /usr/include/x86_64-linux-gnu/bits/time64.h \
 /usr/include/x86_64-linux-gnu/bits/types/__fpos_t.h \
 /usr/include/x86_64-linux-gnu/bits/types/__mbstate_t.h \
 /usr/include/x86_64-linux-gnu/bits/types/__fpos64_t.h \
 /usr/include/x86_64-linux-gnu/bits/types/__FILE.h \
 /usr/include/x86_64-linux-gnu/bits/types/FILE.h \
 /usr/include/x86_64-linux-gnu/bits/types/struct_FILE.h \
 /usr/include/x86_64-linux-gnu/bits/stdio_lim.h \
 /usr/include/x86_64-linux-gnu/bits/floatn.h \
 /usr/include/x86_64-linux-gnu/bits/floatn-common.h \
 /usr/include/x86_64-linux-gnu/bits/stdio.h /usr/include/stdlib.h \
 /usr/include/x86_64-linux-gnu/bits/waitflags.h \
 /usr/include/x86_64-linux-gnu/bits/waitstatus.h \
 /usr/include/x86_64-linux-gnu/bits/stdlib-bsearch.h \
 /usr/include/x86_64-linux-gnu/bits/stdlib-float.h /work/main/src/traj.h \
 /usr/lib/gcc/x86_64-linux-gnu/12/include/stdint.h /usr/include/stdint.h \
 /usr/include/x86_64-linux-gnu/bits/wchar.h \
 /usr/include/x86_64-linux-gnu/bits/stdint-intn.h \
 /usr/include/x86_64-linux-gnu/bits/stdint-uintn.h /usr/include/math.h \
 /usr/include/x86_64-linux-gnu/bits/math-vector.h \
 /usr/include/x86_64-linux-gnu/bits/libm-simd-decl-stubs.h \
 /usr/include/x86_64-linux-gnu/bits/flt-eval-method.h \
 /usr/include/x86_64-linux-gnu/bits/fp-logb.h \
 /usr/include/x86_64-linux-gnu/bits/fp-fast.h \
 /usr/include/x86_64-linux-gnu/bits/mathcalls-helper-functions.h \
 /usr/include/x86_64-linux-gnu/bits/mathcalls.h /usr/include/string.h \
 /usr/include/x86_64-linux-gnu/bits/types/locale_t.h \
 /usr/include/x86_64-linux-gnu/bits/types/__locale_t.h \
 /usr/include/cjson/cJSON.h /usr/include/gsl/gsl_linalg.h \
 /usr/include/gsl/gsl_mode.h /usr/include/gsl/gsl_inline.h \
 /usr/include/gsl/gsl_permutation.h /usr/include/gsl/gsl_types.h \
 /usr/include/gsl/gsl_errno.h /usr/include/errno.h \
 /usr/include/x86_64-linux-gnu/bits/errno.h /usr/include/linux/errno.h \
 /usr/include/x86_64-linux-gnu/asm/errno.h \
 /usr/include/asm-generic/errno.h /usr/include/asm-generic/errno-base.h \
 /usr/include/gsl/gsl_check_range.h /usr/include/gsl/gsl_vector.h \
 /usr/include/gsl/gsl_vector_complex_long_double.h \
 /usr/include/gsl/gsl_complex.h /usr/include/gsl/gsl_vector_long_double.h \
 /usr/include/gsl/gsl_block_long_double.h \
 /usr/include/gsl/gsl_vector_complex.h \
 /usr/include/gsl/gsl_block_complex_long_double.h \
 /usr/include/gsl/gsl_vector_complex_double.h \
 /usr/include/gsl/gsl_vector_double.h /usr/include/gsl/gsl_block_double.h \
 /usr/include/gsl/gsl_block_complex_double.h \
 /usr/include/gsl/gsl_vector_complex_float.h \
 /usr/include/gsl/gsl_vector_float.h /usr/include/gsl/gsl_block_float.h \
 /usr/include/gsl/gsl_block_complex_float.h \
 /usr/include/gsl/gsl_vector_ulong.h /usr/include/gsl/gsl_block_ulong.h \
 /usr/include/gsl/gsl_vector_long.h /usr/include/gsl/gsl_block_long.h \
 /usr/include/gsl/gsl_vector_uint.h /usr/include/gsl/gsl_block_uint.h \
 /usr/include/gsl/gsl_vector_int.h /usr/include/gsl/gsl_block_int.h \
 /usr/include/gsl/gsl_vector_ushort.h /usr/include/gsl/gsl_block_ushort.h \
 /usr/include/gsl/gsl_vector_short.h /usr/include/gsl/gsl_block_short.h \
 /usr/include/gsl/gsl_vector_uchar.h /usr/include/gsl/gsl_block_uchar.h \
 /usr/include/gsl/gsl_vector_char.h /usr/include/gsl/gsl_block_char.h \
 /usr/include/gsl/gsl_matrix.h \
 /usr/include/gsl/gsl_matrix_complex_long_double.h \
 /usr/include/gsl/gsl_blas_types.h /usr/include/gsl/gsl_cblas.h \
 /usr/include/gsl/gsl_matrix_complex_double.h \
 /usr/include/gsl/gsl_matrix_complex_float.h \
 /usr/include/gsl/gsl_matrix_long_double.h \
 /usr/include/gsl/gsl_matrix_double.h /usr/include/gsl/gsl_matrix_float.h \
 /usr/include/gsl/gsl_matrix_ulong.h /usr/include/gsl/gsl_matrix_long.h \
 /usr/include/gsl/gsl_matrix_uint.h /usr/include/gsl/gsl_matrix_int.h \
 /usr/include/gsl/gsl_matrix_ushort.h /usr/include/gsl/gsl_matrix_short.h \
 /usr/include/gsl/gsl_matrix_uchar.h /usr/include/gsl/gsl_matrix_char.h \
 /usr/include/gsl/gsl_math.h /usr/include/gsl/gsl_sys.h \
 /usr/include/gsl/gsl_machine.h \
 /usr/lib/gcc/x86_64-linux-gnu/12/include/limits.h \
 /usr/lib/gcc/x86_64-linux-gnu/12/include/syslimits.h \
 /usr/include/limits.h /usr/include/x86_64-linux-gnu/bits/posix1_lim.h \
 /usr/include/x86_64-linux-gnu/bits/local_lim.h \
 /usr/include/linux/limits.h \
 /usr/include/x86_64-linux-gnu/bits/pthread_stack_min-dynamic.h \
 /usr/include/x86_64-linux-gnu/bits/pthread_stack_min.h \
 /usr/include/x86_64-linux-gnu/bits/posix2_lim.h \
 /usr/lib/gcc/x86_64-linux-gnu/12/include/float.h \
 /usr/include/gsl/gsl_precision.h /usr/include/gsl/gsl_nan.h \
 /usr/include/gsl/gsl_pow_int.h /usr/include/gsl/gsl_minmax.h \
 /usr/include/gsl/gsl_blas.h /usr/include/gsl/gsl_randist.h \
 /usr/include/gsl/gsl_rng.h /work/main/src/provenance.h

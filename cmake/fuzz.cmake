# fuzz.cmake: libFuzzer targets (-DHC_FUZZ=ON, clang only; README "Fuzzing").
#
# Build in a directory of its own (tools/ci_fuzz.sh uses build-fuzz):
#   CC=clang cmake -S . -B build-fuzz -DHC_FUZZ=ON && cmake --build build-fuzz --target fuzz_all
# Every source of libhicache is compiled with coverage instrumentation and
# AddressSanitizer + UndefinedBehaviorSanitizer (float-cast-overflow
# included, every report fatal), so a finding anywhere in the library stops
# the fuzzer.  One executable per fuzz/fuzz_*.c, each defining
# LLVMFuzzerTestOneInput; fuzz/fuzz_util.h holds what they share.
if(NOT CMAKE_C_COMPILER_ID MATCHES "Clang")
  message(FATAL_ERROR "HC_FUZZ needs clang (libFuzzer): configure with CC=clang "
                      "(Debian: tools/debian-packages-ci.txt)")
endif()
if(HC_SANITIZE)
  message(FATAL_ERROR "HC_FUZZ and HC_SANITIZE are exclusive: HC_FUZZ already builds with ASan and UBSan")
endif()

set(HC_FUZZ_SAN address,undefined,float-cast-overflow)
set(HC_FUZZ_FLAGS -fsanitize=${HC_FUZZ_SAN} -fno-sanitize-recover=all -fno-omit-frame-pointer)
target_compile_options(hicache PRIVATE -fsanitize=fuzzer-no-link ${HC_FUZZ_FLAGS})
# anything else linking the library (CLI, tests) needs the runtimes too
target_link_options(hicache INTERFACE -fsanitize=${HC_FUZZ_SAN})

file(GLOB HC_FUZZ_SOURCES CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/fuzz/fuzz_*.c)
add_custom_target(fuzz_all)
foreach(src ${HC_FUZZ_SOURCES})
  get_filename_component(name ${src} NAME_WE)
  add_executable(${name} ${src})
  target_compile_options(${name} PRIVATE -fsanitize=fuzzer ${HC_FUZZ_FLAGS})
  target_link_options(${name} PRIVATE -fsanitize=fuzzer,${HC_FUZZ_SAN})
  target_link_libraries(${name} PRIVATE hicache)
  set_target_properties(${name} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/fuzz)
  add_dependencies(fuzz_all ${name})
endforeach()

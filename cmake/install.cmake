# install.cmake: `cmake --install` for libhicache (included from the root
# CMakeLists.txt's install section, after the hicache and hicache_cli targets).
#
# Installs, under the prefix:
#   lib/libhicache.a                      the static library
#   include/hicache/*.h                   HC_PUBLIC_HEADERS, flat (they include
#                                         each other by bare name)
#   lib/pkgconfig/hicache.pc              `pkg-config --static --libs hicache`
#   lib/cmake/hicache/hicacheConfig.cmake find_package(hicache) -> hicache::hicache
#   lib/cmake/hicache/hicacheConfigVersion.cmake
#   bin/hicache                           the CLI
# A static library carries none of its dependencies, so both hicache.pc and
# hicacheConfig.cmake list every library that hicache links (below); the
# check at the end of this file fails the configure when the hicache target
# links something that is not carried here.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(HC_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/hicache)
set(HC_PC_DIR ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
set(HC_INCLUDE_SUBDIR ${CMAKE_INSTALL_INCLUDEDIR}/hicache)

# ---- 1. library, headers, CLI ----------------------------------------------
install(TARGETS hicache ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
# The CLI is copied as built and tested: its RUNPATH names only system
# directories (OpenBLAS's and HDF5's; libhicache is static), so it loads the
# same libraries as in the build tree.  (install(TARGETS) would rewrite the
# RUNPATH and fails on Debian 12: CMake 3.25 expects the trailing ':' of
# the build RPATH it passed, which the linker dropped.)
install(PROGRAMS $<TARGET_FILE:hicache_cli> DESTINATION ${CMAKE_INSTALL_BINDIR})
install(FILES ${HC_PUBLIC_HEADERS} DESTINATION ${HC_INCLUDE_SUBDIR})

# An installed header may include only system headers (<...>) and other
# installed headers: a consumer has nothing else.  Warn at configure time
# (tests/cli_install.sh fails on the installed tree).
set(HC_PUBLIC_NAMES)
foreach(h ${HC_PUBLIC_HEADERS})
  get_filename_component(n ${h} NAME)
  list(APPEND HC_PUBLIC_NAMES ${n})
endforeach()
foreach(h ${HC_PUBLIC_HEADERS})
  file(STRINGS ${h} incs REGEX "^[ \t]*#[ \t]*include[ \t]*\"")
  foreach(line ${incs})
    string(REGEX REPLACE "^[^\"]*\"([^\"]*)\".*$" "\\1" inc "${line}")
    if(NOT inc IN_LIST HC_PUBLIC_NAMES)
      message(WARNING "install: public header ${h} includes \"${inc}\", which is not in "
                      "HC_PUBLIC_HEADERS: an installed hicache cannot be compiled against")
    endif()
  endforeach()
endforeach()

# ---- 2. what a consumer links besides libhicache.a -------------------------
# pkg-config modules that carry themselves (Requires.private; also the
# imported targets hicacheConfig.cmake recreates for them):
set(HC_PC_REQUIRES openblas libcjson libpng zlib)
# Libraries without a usable .pc: libgsl alone (gsl.pc adds -lgslcblas, see
# the dependency section), HDF5 + HDF5_HL (Debian has no hdf5_hl.pc), the
# thread library and libm.  These go into Libs.private as -L/-l flags, which
# pkg-config puts before the Requires.private modules' flags: -lgsl before
# -lopenblas, so that OpenBLAS resolves libgsl's cblas_* calls even under
# --as-needed and loads before libgslcblas (hicacheConfig.cmake keeps the
# same order).
set(HC_PC_LIBS ${HC_GSL_LIBRARY} ${HDF5_HL_LIBRARIES} ${HDF5_C_LIBRARIES} pthread m)
# A sanitizer build's objects need the sanitizer runtimes at link time.
set(HC_INSTALL_LINK_OPTIONS)
if(HC_SANITIZE)
  set(HC_INSTALL_LINK_OPTIONS -fsanitize=${HC_SANITIZERS})
endif()
# Everything the hicache target links must be one of these:
set(HC_INSTALL_CARRIED PkgConfig::OPENBLAS PkgConfig::CJSON PkgConfig::PNG PkgConfig::ZLIB
    ${HC_GSL_LIBRARY} ${HDF5_HL_LIBRARIES} ${HDF5_C_LIBRARIES} Threads::Threads m)

# hc_pc_libflags(OUT item...): "-L<dir> -l<name> ..." for absolute library
# paths and bare names; -L only for directories the linker does not search.
function(hc_pc_libflags out)
  set(dirs)
  set(libs)
  foreach(item ${ARGN})
    if(item MATCHES "^-")
      list(APPEND libs ${item})
    elseif(IS_ABSOLUTE "${item}")
      get_filename_component(dir ${item} DIRECTORY)
      get_filename_component(file ${item} NAME)
      if(NOT file MATCHES "^lib(.+)\\.(so|a|dylib)(\\.[0-9.]+)?$")
        message(FATAL_ERROR "install: cannot express ${item} as -l for hicache.pc")
      endif()
      list(APPEND libs -l${CMAKE_MATCH_1})
      if(NOT dir IN_LIST CMAKE_C_IMPLICIT_LINK_DIRECTORIES)
        list(APPEND dirs -L${dir})
      endif()
    else()
      list(APPEND libs -l${item})
    endif()
  endforeach()
  list(REMOVE_DUPLICATES dirs)
  list(REMOVE_DUPLICATES libs)
  string(REPLACE ";" " " flags "${dirs};${libs}")
  string(STRIP "${flags}" flags)
  set(${out} "${flags}" PARENT_SCOPE)
endfunction()

# ---- 3. hicache.pc (relocatable: prefix from the .pc file's own directory) --
hc_pc_libflags(HC_PC_LIBS_PRIVATE ${HC_INSTALL_LINK_OPTIONS} ${HC_PC_LIBS})
string(REPLACE ";" " " HC_PC_REQUIRES_PRIVATE "${HC_PC_REQUIRES}")
if(IS_ABSOLUTE "${HC_PC_DIR}")
  set(HC_PC_PREFIX "${CMAKE_INSTALL_PREFIX}")
else()
  file(RELATIVE_PATH rel /p/${HC_PC_DIR} /p)
  string(REGEX REPLACE "/$" "" rel "${rel}")
  set(HC_PC_PREFIX "\${pcfiledir}/${rel}")
endif()
configure_file(${CMAKE_SOURCE_DIR}/cmake/hicache.pc.in ${CMAKE_BINARY_DIR}/hicache.pc @ONLY)
install(FILES ${CMAKE_BINARY_DIR}/hicache.pc DESTINATION ${HC_PC_DIR})

# ---- 4. CMake package: hicacheConfig.cmake + version -------------------------
set(HC_LIB_FILE ${CMAKE_STATIC_LIBRARY_PREFIX}hicache${CMAKE_STATIC_LIBRARY_SUFFIX})
configure_package_config_file(${CMAKE_SOURCE_DIR}/cmake/hicacheConfig.cmake.in
  ${CMAKE_BINARY_DIR}/hicacheConfig.cmake INSTALL_DESTINATION ${HC_CMAKE_DIR}
  PATH_VARS CMAKE_INSTALL_LIBDIR HC_INCLUDE_SUBDIR)
write_basic_package_version_file(${CMAKE_BINARY_DIR}/hicacheConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_BINARY_DIR}/hicacheConfig.cmake ${CMAKE_BINARY_DIR}/hicacheConfigVersion.cmake
  DESTINATION ${HC_CMAKE_DIR})

# ---- 5. nothing the library links may be left behind ------------------------
get_target_property(hc_links hicache LINK_LIBRARIES)
foreach(l ${hc_links})
  if(NOT l IN_LIST HC_INSTALL_CARRIED)
    message(FATAL_ERROR "install: hicache links '${l}', which an installed hicache does not "
                        "carry: add it to cmake/install.cmake (HC_PC_REQUIRES or HC_PC_LIBS, "
                        "HC_INSTALL_CARRIED) and to cmake/hicacheConfig.cmake.in")
  endif()
endforeach()

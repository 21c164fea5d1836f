
# Consider dependencies only in project.
set(CMAKE_DEPENDS_IN_PROJECT_ONLY OFF)

# The set of languages for which implicit dependencies are needed:
set(CMAKE_DEPENDS_LANGUAGES
  )

# The set of dependency files which are needed:
set(CMAKE_DEPENDS_DEPENDENCY_FILES
  "/work/main/src/provenance.c" "CMakeFiles/hicache.dir/src/provenance.c.o" "gcc" "CMakeFiles/hicache.dir/src/provenance.c.o.d"
  "/work/main/src/stats/csvread.c" "CMakeFiles/hicache.dir/src/stats/csvread.c.o" "gcc" "CMakeFiles/hicache.dir/src/stats/csvread.c.o.d"
  "/work/main/src/stats/mvnormal.c" "CMakeFiles/hicache.dir/src/stats/mvnormal.c.o" "gcc" "CMakeFiles/hicache.dir/src/stats/mvnormal.c.o.d"
  "/work/main/src/stats/normality.c" "CMakeFiles/hicache.dir/src/stats/normality.c.o" "gcc" "CMakeFiles/hicache.dir/src/stats/normality.c.o.d"
  "/work/main/src/status.c" "CMakeFiles/hicache.dir/src/status.c.o" "gcc" "CMakeFiles/hicache.dir/src/status.c.o.d"
  "/work/main/src/synth.c" "CMakeFiles/hicache.dir/src/synth.c.o" "gcc" "CMakeFiles/hicache.dir/src/synth.c.o.d"
  "/work/main/src/traj.c" "CMakeFiles/hicache.dir/src/traj.c.o" "gcc" "CMakeFiles/hicache.dir/src/traj.c.o.d"
  )

# Targets to which this target links.
set(CMAKE_TARGET_LINKED_INFO_FILES
  )

# Fortran module output directory.
set(CMAKE_Fortran_TARGET_MODULE_DIR "")

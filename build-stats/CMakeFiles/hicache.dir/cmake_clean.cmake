file(REMOVE_RECURSE
  "CMakeFiles/hicache.dir/src/provenance.c.o"
  "CMakeFiles/hicache.dir/src/provenance.c.o.d"
  "CMakeFiles/hicache.dir/src/stats/csvread.c.o"
  "CMakeFiles/hicache.dir/src/stats/csvread.c.o.d"
  "CMakeFiles/hicache.dir/src/stats/mvnormal.c.o"
  "CMakeFiles/hicache.dir/src/stats/mvnormal.c.o.d"
  "CMakeFiles/hicache.dir/src/stats/normality.c.o"
  "CMakeFiles/hicache.dir/src/stats/normality.c.o.d"
  "CMakeFiles/hicache.dir/src/status.c.o"
  "CMakeFiles/hicache.dir/src/status.c.o.d"
  "CMakeFiles/hicache.dir/src/synth.c.o"
  "CMakeFiles/hicache.dir/src/synth.c.o.d"
  "CMakeFiles/hicache.dir/src/traj.c.o"
  "CMakeFiles/hicache.dir/src/traj.c.o.d"
  "libhicache.a"
  "libhicache.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/hicache.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()

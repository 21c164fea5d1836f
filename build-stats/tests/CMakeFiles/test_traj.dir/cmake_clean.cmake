file(REMOVE_RECURSE
  "CMakeFiles/test_traj.dir/test_traj.c.o"
  "CMakeFiles/test_traj.dir/test_traj.c.o.d"
  "test_traj"
  "test_traj.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/test_traj.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()

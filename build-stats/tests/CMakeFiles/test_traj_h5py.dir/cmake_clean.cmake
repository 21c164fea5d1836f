file(REMOVE_RECURSE
  "CMakeFiles/test_traj_h5py.dir/test_traj_h5py.c.o"
  "CMakeFiles/test_traj_h5py.dir/test_traj_h5py.c.o.d"
  "test_traj_h5py"
  "test_traj_h5py.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/test_traj_h5py.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()

# Empty compiler generated dependencies file for test_traj_h5py.
# This may be replaced when dependencies are built.

# Empty compiler generated dependencies file for test_traj.
# This may be replaced when dependencies are built.

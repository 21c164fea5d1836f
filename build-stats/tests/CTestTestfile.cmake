# CMake generated Testfile for 
# Source directory: /work/main/tests
# Build directory: /work/main/build-stats/tests
# 
# This file includes the relevant testing commands required for 
# testing this directory and lists subdirectories to be tested as well.
add_test(test_traj "/work/main/build-stats/tests/test_traj")
set_tests_properties(test_traj PROPERTIES  ENVIRONMENT "OPENBLAS_NUM_THREADS=1;CMOCKA_MESSAGE_OUTPUT=stdout" SKIP_RETURN_CODE "77" TIMEOUT "300" WORKING_DIRECTORY "/work/main/build-stats/tests" _BACKTRACE_TRIPLES "/work/main/tests/CMakeLists.txt;11;add_test;/work/main/tests/CMakeLists.txt;0;")
add_test(test_traj_h5py "/work/main/build-stats/tests/test_traj_h5py")
set_tests_properties(test_traj_h5py PROPERTIES  ENVIRONMENT "OPENBLAS_NUM_THREADS=1;CMOCKA_MESSAGE_OUTPUT=stdout" SKIP_RETURN_CODE "77" TIMEOUT "300" WORKING_DIRECTORY "/work/main/build-stats/tests" _BACKTRACE_TRIPLES "/work/main/tests/CMakeLists.txt;11;add_test;/work/main/tests/CMakeLists.txt;0;")

file(REMOVE_RECURSE
  "CMakeFiles/hicache_cli.dir/src/cli/cmd_info.c.o"
  "CMakeFiles/hicache_cli.dir/src/cli/cmd_info.c.o.d"
  "CMakeFiles/hicache_cli.dir/src/cli/cmd_synth.c.o"
  "CMakeFiles/hicache_cli.dir/src/cli/cmd_synth.c.o.d"
  "CMakeFiles/hicache_cli.dir/src/cli/cmd_version.c.o"
  "CMakeFiles/hicache_cli.dir/src/cli/cmd_version.c.o.d"
  "CMakeFiles/hicache_cli.dir/src/cli/main.c.o"
  "CMakeFiles/hicache_cli.dir/src/cli/main.c.o.d"
  "hicache"
  "hicache.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/hicache_cli.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()

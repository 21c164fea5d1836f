file(REMOVE_RECURSE
  "CMakeFiles/hc_gitrev"
  "generated/gitrev.h"
)

# Per-language clean rules from dependency scanning.
foreach(lang )
  include(CMakeFiles/hc_gitrev.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()

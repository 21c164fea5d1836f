file(REMOVE_RECURSE
  "libhicache.a"
)

# Empty compiler generated dependencies file for hicache.
# This may be replaced when dependencies are built.

# Empty dependencies file for hicache_cli.
# This may be replaced when dependencies are built.

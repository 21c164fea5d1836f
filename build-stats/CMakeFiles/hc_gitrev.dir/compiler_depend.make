# Empty custom commands generated dependencies file for hc_gitrev.
# This may be replaced when dependencies are built.

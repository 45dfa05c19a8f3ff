# Memory map names are unique.
mem-create name=m
mem-create name=m

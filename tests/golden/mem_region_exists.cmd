# Region names are unique.
mem-create name=m
mem-add mem=m name=r kind=ram pa=0x1000 size=4K
mem-add mem=m name=r kind=ram pa=0x2000 size=4K

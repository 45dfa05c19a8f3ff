# mem-add fill= is a byte.
mem-create name=m
mem-add mem=m name=r kind=host pa=0x1000 size=4K fill=0x100

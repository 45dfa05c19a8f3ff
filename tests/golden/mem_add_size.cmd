# mem-add size= is bounded per kind.
mem-create name=m
mem-add mem=m name=r kind=regs pa=0x1000 size=1G

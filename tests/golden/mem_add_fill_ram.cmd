# fill= is for caller memory only: RAM starts zeroed.
mem-create name=m
mem-add mem=m name=r kind=ram pa=0x1000 size=4K fill=1

# log= is for register files only.
mem-create name=m
mem-add mem=m name=r kind=host pa=0x1000 size=4K log=yes

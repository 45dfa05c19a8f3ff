# mem-write data= is pairs of hex digits.
mem-create name=m
mem-add mem=m name=r kind=ram pa=0x1000 size=4K
mem-write mem=m pa=0x1000 data=zz

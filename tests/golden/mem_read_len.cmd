# mem-read len= is bounded.
mem-create name=m
mem-add mem=m name=r kind=ram pa=0x1000 size=4K
mem-read mem=m pa=0x1000 len=1G

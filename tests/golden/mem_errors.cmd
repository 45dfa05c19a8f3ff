# Errors of the memory map: overlaps, bad ranges, holes, bad arguments.
mem-create name=m
mem-add mem=m name=a kind=ram pa=0x10000 size=0x1000
mem-add mem=m name=b kind=ram pa=0x10800 size=0x1000
expect err=EEXIST
mem-add mem=m name=b kind=ram pa=0xf000 size=0x1001
expect err=EEXIST
mem-add mem=m name=b kind=regs pa=0x10fff size=1
expect err=EEXIST
mem-add mem=m name=b kind=ram pa=0x0 size=0
expect err=EINVAL
mem-add mem=m name=b kind=ram pa=0xfffffffffffff000 size=0x1001
expect err=EINVAL
# nothing was added
mem-dump mem=m
expect regions=1
# the top of the address space is fine
mem-add mem=m name=top kind=ram pa=0xfffffffffffff000 size=4K
mem-write mem=m pa=0xfffffffffffffffe data=abcd
mem-read mem=m pa=0xfffffffffffffffe len=2
expect data=abcd
mem-read mem=m pa=0xffffffffffffffff len=2
expect err=EINVAL
# holes
mem-read mem=m pa=0xffff len=1
expect err=EFAULT
mem-read mem=m pa=0x10ff0 len=32
expect err=EFAULT
mem-read mem=m pa=0x10000 len=0
expect err=EINVAL
mem-put region=a
expect err=EINVAL
mem-stats mem=m
expect err_unmapped=2

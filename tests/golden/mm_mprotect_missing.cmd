# mm-mprotect needs prot=.
mm-create name=mm
mm-mmap mm=mm len=4K addr=0x10000000
mm-mprotect mm=mm addr=0x10000000 len=4K

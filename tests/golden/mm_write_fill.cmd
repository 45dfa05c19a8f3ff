# mm-write fill= is a byte.
mm-create name=mm
mm-mmap mm=mm len=4K addr=0x10000000
mm-write mm=mm addr=0x10000000 fill=0x100 count=1

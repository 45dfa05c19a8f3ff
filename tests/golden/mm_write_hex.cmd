# mm-write data= is hex.
mm-create name=mm
mm-mmap mm=mm len=4K addr=0x10000000
mm-write mm=mm addr=0x10000000 data=0q

# mm-read len= is bounded.
mm-create name=mm
mm-mmap mm=mm len=4K addr=0x10000000
mm-read mm=mm addr=0x10000000 len=0

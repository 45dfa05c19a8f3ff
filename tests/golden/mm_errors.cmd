# Bad input to the mm verbs: library errors (expected), then a usage error
# that stops the run.
mm-create name=mm levels=3
expect err=EINVAL
mm-create name=mm
mm-mmap mm=mm len=0
expect err=EINVAL
mm-mmap mm=mm len=4K addr=0x1001
expect err=EINVAL
mm-mmap mm=mm len=4K page=2m
expect err=EINVAL
mm-mmap mm=mm len=4K addr=0x800000000000
expect err=ERANGE
mm-mmap mm=mm len=64K addr=0x10000000
mm-mmap mm=mm len=4K addr=0x10008000
expect err=EEXIST
mm-munmap mm=mm addr=0x10000000 len=0x1001
expect err=EINVAL
mm-madvise mm=mm addr=0x10000000 len=4K advice=dontneed
mm-fault mm=mm addr=0x20000000
expect err=EFAULT
mm-fault mm=mm addr=0x10000000 access=x
expect err=EACCES
mm-level mm=mm addr=0x800000000000
expect err=ERANGE
mm-mprotect mm=mm addr=0x10000000 len=4K prot=q

# A CPU address space: areas, faults by page size, the seed-001 level lookup
# (a not-present entry answers 4K, never "none"), CPU access, discard,
# huge-page splits, mprotect, shared memfd areas, the invalidation sequence.
mm-create name=mm
mm-level mm=mm addr=0x40000000
expect level=4K mapped=no
mm-mmap mm=mm len=4M as=a
expect addr=0x100000000
# THP: the first touch of a 2 MiB-aligned block backs it with a 2 MiB page
mm-write mm=mm addr=$a.addr+0x10 data=c0ffee
mm-level mm=mm addr=$a.addr+0x1ff000
expect level=2M mapped=yes prot=rw
mm-level mm=mm addr=$a.addr+2M
expect level=4K mapped=no
mm-read mm=mm addr=$a.addr+0xe len=6
expect data=0000c0ffee00
# a fixed 4K policy, and 1 GiB pages by policy
mm-mmap mm=mm len=2M page=4k as=b
mm-fault mm=mm addr=$b.addr access=w
expect level=4K
mm-mmap mm=mm len=1G page=1g as=c
mm-fault mm=mm addr=$c.addr+0x12345000
expect level=1G
mm-info mm=mm
expect areas=3 mapped_4k=1 mapped_2m=1 mapped_1g=1 seq=0 in_progress=0
# every change that removes translations is one invalidation: seq moves
mm-seq mm=mm as=s0
mm-split mm=mm addr=$c.addr
expect split=yes seq=1
mm-retry mm=mm seq=$s0.seq addr=$c.addr
expect retry=yes
mm-retry mm=mm seq=1 addr=$c.addr
expect retry=no
mm-level mm=mm addr=$c.addr+0x12345000
expect level=4K mapped=no
mm-fault mm=mm addr=$c.addr+0x12345000
expect level=2M
# partial munmap of a 2 MiB page splits it; the rest keeps its data
mm-munmap mm=mm addr=$a.addr+0x100000 len=4K
expect seq=2
mm-read mm=mm addr=$a.addr+0x100000 len=1
expect err=EFAULT
mm-read mm=mm addr=$a.addr+0x10 len=3
expect data=c0ffee
mm-level mm=mm addr=$a.addr
expect level=4K mapped=yes
# discard: anonymous memory reads zero again
mm-madvise mm=mm addr=$a.addr len=4K advice=dontneed
mm-read mm=mm addr=$a.addr+0x10 len=3
expect data=000000
# mprotect: read-only refuses CPU writes; PROT_NONE refuses reads
mm-write mm=mm addr=$a.addr+0x2000 data=11
mm-mprotect mm=mm addr=$a.addr+0x2000 len=4K prot=r
mm-write mm=mm addr=$a.addr+0x2000 data=22
expect err=EACCES
mm-read mm=mm addr=$a.addr+0x2000 len=1
expect data=11
mm-mprotect mm=mm addr=$a.addr+0x2000 len=4K prot=-
mm-read mm=mm addr=$a.addr+0x2000 len=1
expect err=EACCES
mm-mprotect mm=mm addr=$a.addr+0x8000000 len=4K prot=r
expect err=ENOMEM
# a shared memfd area: the file keeps its data across a discard
mm-mmap mm=mm len=16K memfd=yes as=f
mm-write mm=mm addr=$f.addr+0x1000 data=f11e
mm-madvise mm=mm addr=$f.addr len=16K advice=dontneed
mm-read mm=mm addr=$f.addr+0x1000 len=2
expect data=f11e
mm-level mm=mm addr=$f.addr+0x1000
expect level=4K mapped=yes prot=rw
mm-munmap mm=mm addr=$c.addr len=1G
mm-info mm=mm
expect areas=6 mapped_1g=0 rss=0x200000
mm-destroy mm=mm

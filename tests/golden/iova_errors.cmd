# IOVA bad input: a clear error, and nothing changed.
iova-create name=bad last=0xfffffffe
expect err=EINVAL
iova-create name=bad start=0x800 last=0xffffffff
expect err=EINVAL
iova-create name=bad start=0x100000 last=0xfffff
expect err=EINVAL
iova-create name=bad last=0xffffffff granule=2
expect err=EINVAL
# a 1 MiB aperture
iova-create name=s start=1M last=0x1fffff
expect granules=256
iova-alloc space=s size=8K as=a
expect iova=0x1fe000
iova-dump space=s
# size 0, larger than the aperture, or a limit below it
iova-alloc space=s size=0
expect err=EINVAL
iova-alloc space=s size=0x100001
expect err=ERANGE
iova-alloc space=s size=4K limit=0xfffff
expect err=ERANGE
# frees of what was never allocated, not aligned, or inside a range
iova-free space=s iova=0x100000
expect err=ENOENT
iova-free space=s iova=$a.iova+0x800
expect err=EINVAL
iova-free space=s iova=$a.iova+4K
expect err=ENOENT
iova-free space=s iova=0x5000
expect err=ENOENT
# reserving over an allocation is refused; an empty range is bad input
iova-reserve space=s start=0x1f0000 last=0x1fffff
expect err=EBUSY
iova-reserve space=s start=0x2000 last=0x1000
expect err=EINVAL
# destroying a space with allocations is refused
iova-destroy space=s
expect err=EBUSY
# nothing above changed anything
iova-dump space=s
expect ranges=1
iova-stats space=s
expect allocs=1 frees=0 failures=0 reserved=0
# full: 254 pages are left, so a 256-page range cannot fit
iova-alloc space=s size=1M
expect err=ENOSPC
iova-stats space=s
expect failures=1 flushes=1
# a granule that is not a power of two is a usage error: the run stops here
iova-create name=t last=0xffff granule=3K
iova-dump space=s

# IOVA allocator basics: top-down, size-aligned placement, rounding of cached
# sizes to powers of two, limits, reserved ranges, and the per-thread cache.
iova-create name=s last=0xffffffff
# the first page comes from the top of the aperture
iova-alloc space=s size=4K
expect iova=0xfffff000 size=0x1000
# 16 pages: aligned to 64K, below the first
iova-alloc space=s size=64K as=r64
expect iova=0xfffe0000
# 3 pages round up to 4 (cached sizes are powers of two), aligned to 16K
iova-alloc space=s size=12K
expect iova=0xffff8000 size=0x4000
# up to 256 pages are cached; 300 pages are exact, aligned to 512 pages,
# in the highest 2 MiB-aligned place that has room
iova-alloc space=s size=1200K as=big
expect iova=0xffe00000 size=0x12c000
# a 32-bit DMA mask below 1 GiB
iova-alloc space=s size=1M limit=0x3fffffff
expect iova=0x3ff00000
# the MSI window is never handed out
iova-reserve space=s start=0xfee00000 last=0xfeefffff
iova-find space=s addr=0xfee12345
expect found=yes start=0xfee00000 last=0xfeefffff kind=reserved
iova-find space=s addr=$r64.iova+32K
expect found=yes start=$r64.iova last=$r64.iova+64K-1 kind=allocated
iova-find space=s addr=0x1000
expect found=no
iova-dump space=s
expect ranges=6
# a freed range stays in this thread's cache and comes back at once
iova-free space=s iova=$r64.iova
iova-find space=s addr=$r64.iova
expect found=no
iova-alloc space=s size=64K
expect iova=$r64.iova
iova-free space=s iova=$r64.iova
# a double free is refused, whether the range is cached ...
iova-free space=s iova=$r64.iova
expect err=ENOENT
iova-dump space=s
# ... or back in the tree
iova-flush space=s
iova-free space=s iova=$r64.iova
expect err=ENOENT
iova-stats space=s
expect allocs=6 frees=2 hits=1 tree_allocs=5 tree_frees=1 flushes=1 cached=0
# large sizes are never cached: their free goes straight to the tree
iova-free space=s iova=$big.iova
iova-stats space=s
expect tree_frees=2 allocated=3
iova-free-all space=s
iova-dump space=s
expect ranges=1
iova-destroy space=s

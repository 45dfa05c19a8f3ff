# Per-thread caches: ranges freed by a thread that exits go back (to the
# tree, or to the depot when a magazine is full), and a full space flushes
# every cache before it gives up.
iova-create name=s start=0x100000 last=0x4fffff
# a short-lived thread: 16 pages allocated, freed into its cache, returned at exit
iova-thread space=s size=4K count=16
iova-stats space=s
expect allocs=16 frees=16 cache_frees=16 tree_frees=16 cached=0 threads=0
# 300 ranges: two full magazines stay in the depot, the rest go to the tree
iova-thread space=s size=4K count=300
iova-stats space=s
expect depot_puts=2 cached=254 threads=0
# this thread fills the space: the depot's ranges are used first
iova-fill space=s size=4K count=1024
expect allocated=1024 lowest=0x100000 highest=0x4ff000
iova-stats space=s
expect hits=254 depot_gets=2 allocated=1024 cached=0
iova-fill space=s size=4K count=1
expect allocated=0 stopped=ENOSPC
iova-free-all space=s
# ranges cached by this thread are used by a larger request after a flush
iova-fill space=s size=4K count=1024 free=yes
expect allocated=1024
iova-stats space=s
expect cached=1024 depot_puts=9 threads=1
iova-alloc space=s size=1M
expect iova=0x400000 size=0x100000
iova-stats space=s
expect cached=0 flushes=2 allocated=1
iova-dump space=s
# without caches every free goes to the tree
iova-create name=n start=0x100000 last=0x1fffff cache=no
iova-fill space=n size=4K count=4 free=yes
iova-stats space=n
expect hits=0 tree_frees=4 threads=0
iova-destroy space=n

# map and unmap: page-size choice, -EEXIST with nothing changed, unmap
# counts and holes, no splitting of large pages, and table reclamation in
# the order of seed 000 (cleared -> invalidated -> grace period -> freed).
pt-create name=t fmt=vtd-ss levels=4
# 4K up to the 2 MiB boundary, 2 MiB pages up to 1 GiB, a 1 GiB page, 4K
pt-map pt=t iova=0x1ff000 pa=0x10001ff000 size=0x7fe02000
pt-level pt=t iova=0x1ff000
expect level=4K
pt-level pt=t iova=0x3fe00000
expect level=2M
pt-level pt=t iova=0x40000000
expect level=1G
pt-level pt=t iova=0x80000000
expect level=4K
pt-iova-to-phys pt=t iova=0x40012345
expect pa=0x1040012345
pt-info pt=t
# any overlap is -EEXIST, and nothing is added (no table page either)
pt-map pt=t iova=0x80000000 pa=0 size=8K
expect err=EEXIST
pt-map pt=t iova=0x3fffe000 pa=0 size=8K
expect err=EEXIST
pt-map pt=t iova=2G pa=0 size=4K
expect err=EEXIST
pt-map pt=t iova=0x80001000 pa=0x5000 size=4K
pt-info pt=t
expect pages=6
# a large page is never split: a range ending inside it fails, nothing changes
pt-unmap pt=t iova=0x1ff000 size=0x101000
expect err=EINVAL
pt-unmap pt=t iova=0x40001000 size=4K
expect err=EINVAL
# holes are skipped; the count is what was mapped
pt-unmap pt=t iova=0x100000 size=0x100000
expect unmapped=0x1000
pt-unmap pt=t iova=3G size=1G
expect unmapped=0x0
# the (now empty) leaf table stays until an unmap covers its span
pt-sync pt=t
expect inval=0x1ff000-0x1fffff tables=no freed=0
pt-unmap pt=t iova=0 size=2M
expect unmapped=0x0
pt-sync pt=t
expect inval=0x0-0x1fffff tables=yes freed=1
pt-sync pt=t
expect inval=none freed=0
pt-unmap pt=t iova=1G size=1G
expect unmapped=0x40000000
# a gather may hold several unmaps: one invalidation for their hull
pt-unmap pt=t iova=2G size=2M
expect unmapped=0x2000
pt-info pt=t
expect pages=5 detached=1
pt-sync pt=t
expect inval=0x40000000-0x801fffff tables=yes freed=1
# a table can only be destroyed once its gathers are synced
pt-unmap pt=t iova=0 size=1G
expect unmapped=0x3fe00000
pt-destroy pt=t
expect err=EBUSY
pt-sync pt=t
expect inval=0x0-0x3fffffff tables=yes freed=1
pt-info pt=t
expect pages=3 peak=6
pt-destroy pt=t
# a 2 MiB map over an empty leaf table uses 4K pages until it is freed
pt-create name=u fmt=x86-64
pt-map pt=u iova=2M pa=0 size=4K
pt-unmap pt=u iova=2M size=4K
pt-sync pt=u
pt-map pt=u iova=2M pa=4M size=2M
pt-level pt=u iova=3M
expect level=4K
pt-unmap pt=u iova=2M size=2M
pt-sync pt=u
expect freed=1
pt-map pt=u iova=2M pa=4M size=2M
pt-level pt=u iova=3M
expect level=2M
pt-dump pt=u

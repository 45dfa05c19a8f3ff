# SIOMMU_PT_F_LINUX (pt-create linux=yes): VT-d tables as Linux's
# intel-iommu manages them.  Beside each step, the default table.
pt-create name=lx fmt=vtd-ss levels=3 linux=yes
pt-create name=def fmt=vtd-ss levels=3 phys_base=0x20000000

# a 4 KiB page mapped and unmapped: its leaf table stays (3 pages) in both
pt-map pt=lx iova=0x200000 pa=0x1000 size=4K
pt-unmap pt=lx iova=0x200000 size=4K
pt-sync pt=lx
pt-map pt=def iova=0x200000 pa=0x1000 size=4K
pt-unmap pt=def iova=0x200000 size=4K
pt-sync pt=def
pt-info pt=lx
expect pages=3
pt-info pt=def
expect pages=3

# a 2 MiB map there: Linux frees the empty table (switch_to_super_page()),
# which waits in the gather for the flush (tables=yes) and a grace period
pt-map pt=lx iova=0x200000 pa=0x40000000 size=2M gather=yes
pt-level pt=lx iova=0x201000
expect level=2M
pt-sync pt=lx
expect inval=0x200000-0x3fffff tables=yes freed=1
pt-info pt=lx
expect pages=2
# the default: 512 4 KiB pages in the old table
pt-map pt=def iova=0x200000 pa=0x40000000 size=2M
pt-level pt=def iova=0x201000
expect level=4K
pt-info pt=def
expect pages=3

# unmapping 4 KiB of a superpage: Linux unmaps all of it and says 2 MiB
pt-map pt=lx iova=0x800000 pa=0x40200000 size=2M
pt-unmap pt=lx iova=0x800000 size=4K
expect unmapped=0x200000
pt-sync pt=lx
pt-iova-to-phys pt=lx iova=0x9ff000
expect err=ENOENT
pt-map pt=def iova=0x800000 pa=0x40200000 size=2M
pt-unmap pt=def iova=0x800000 size=4K
expect err=EINVAL
# starting inside a superpage: refused either way
pt-unmap pt=lx iova=0x201000 size=4K
expect err=EINVAL

# only VT-d second stage has the option
pt-create name=x fmt=x86-64 linux=yes
expect err=EINVAL

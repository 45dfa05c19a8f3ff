# The IOMMU over a memory map: a device, a paging domain, translate through
# the IOTLB, DMA split at page boundaries, replace, PASIDs, identity and
# blocked domains.
log-level level=warn
mem-create name=m
mem-add mem=m name=ram kind=ram pa=0x100000 size=64K
mem-add mem=m name=dev kind=regs pa=0x200000 size=0x100 log=yes
iommu-create name=io mem=m pasid-bits=8
iommu-info iommu=io
dev-create iommu=io name=nic rid=0x0210 pasid=yes pasid-bits=8 ats=yes
dev-info dev=nic
expect rid=0000:02:02.0 attached=no

# nothing attached: every request faults
translate dev=nic iova=0x1000
expect err=ENODATA

domain-create iommu=io name=d1 fmt=vtd-ss
domain-info domain=d1
expect type=paging domid=1 mode=strict users=0
attach dev=nic domain=d1
domain-info domain=d1
expect users=1
domain-map domain=d1 iova=0x40000000 pa=0x100000 size=16K
domain-map domain=d1 iova=0x50000000 pa=0x200000 size=4K prot=rwm

# a miss walks the table and fills the IOTLB; the next access hits
translate dev=nic iova=0x40001234
expect pa=0x101234 size=4K hit=no
translate dev=nic iova=0x40001ff8
expect hit=yes
translate dev=nic iova=0x40000000 access=w
expect hit=no
translate dev=nic iova=0x40004000
expect err=ENOENT
translate dev=nic iova=0x8000000000
expect err=ERANGE

# DMA across pages, RAM by memcpy, MMIO by callback
dma-write dev=nic iova=0x40000ffc data=0102030405060708
dma-read dev=nic iova=0x40000ff8 len=16
expect data=00000000010203040506070800000000
mem-read mem=m pa=0x101000 len=4
expect data=05060708
dma-write dev=nic iova=0x50000008 data=1122334455667788
dma-read dev=nic iova=0x50000008 len=8
expect data=1122334455667788
dma-read dev=nic iova=0x40003ff0 len=32
expect err=ENOENT

# replace: the device switches tables in one step
domain-create iommu=io name=d2 fmt=arm-lpae-s1
domain-map domain=d2 iova=0x40000000 pa=0x108000 size=4K prot=r
replace dev=nic domain=d2
translate dev=nic iova=0x40000010
expect pa=0x108010 prot=r
dma-write dev=nic iova=0x40000010 data=ff
expect err=EACCES
domain-destroy domain=d1
domain-destroy domain=d2
expect err=EBUSY

# PASIDs have attachments of their own
domain-create iommu=io name=id type=identity
domain-create iommu=io name=blk type=blocked
attach dev=nic pasid=5 domain=id
translate dev=nic pasid=5 iova=0x100010
expect pa=0x100010
dma-read dev=nic pasid=5 iova=0x101000 len=4
expect data=05060708
attach dev=nic pasid=6 domain=blk
translate dev=nic pasid=6 iova=0x100010
expect err=EPERM
attach dev=nic pasid=256 domain=blk
expect err=EINVAL
attach dev=nic pasid=0 domain=blk
expect err=EEXIST
dev-info dev=nic
expect attached=yes pasids=2
dev-destroy dev=nic
expect err=EBUSY
detach dev=nic pasid=6
detach dev=nic pasid=6
expect err=ENOENT
fault-log iommu=io
iommu-stats iommu=io

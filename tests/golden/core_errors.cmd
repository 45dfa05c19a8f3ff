# Bad input at the core's functions: clear errors, nothing changed; the
# fault log keeps the newest records and rate-limits; a usage error stops
# the run.
log-level level=err
iommu-create name=bad ias=20
expect err=EINVAL
iommu-create name=bad oas=60
expect err=EINVAL
iommu-create name=bad pasid-bits=21
expect err=EINVAL
iommu-create name=bad iotlb=3
expect err=EINVAL
mem-create name=m
mem-add mem=m name=ram kind=ram pa=0x100000 size=64K
iommu-create name=io mem=m fault-log=3 fault-rate=4
dev-create iommu=io name=a rid=0x100
dev-create iommu=io name=b rid=0x100
expect err=EEXIST
dev-create iommu=io name=b rid=0x1000000
expect err=EINVAL
dev-create iommu=io name=b rid=0x101 pasid=yes
expect err=EOPNOTSUPP
dev-create iommu=io name=b rid=0x101 prg-resp-pasid=yes
expect err=EINVAL
domain-create iommu=io name=d fmt=x86-64 levels=3
expect err=EINVAL
domain-create iommu=io name=d
domain-create iommu=io name=i type=identity
domain-map domain=i iova=0 pa=0 size=4K
expect err=EINVAL
domain-map domain=d iova=0x1000 pa=0x100000 size=0
expect err=EINVAL
domain-map domain=d iova=0x1001 pa=0x100000 size=4K
expect err=EINVAL
domain-map domain=d iova=0x800000000000 pa=0x100000 size=4K
expect err=ERANGE
domain-map domain=d iova=0x1000 pa=0x100000 size=8K
domain-map domain=d iova=0x2000 pa=0x100000 size=4K
expect err=EEXIST
domain-unmap domain=d iova=0x1000 size=0
expect err=EINVAL
attach dev=a pasid=1 domain=d
expect err=EOPNOTSUPP
detach dev=a
expect err=ENOENT
domain-destroy domain=i
attach dev=a domain=d
domain-destroy domain=d
expect err=EBUSY
translate dev=a iova=0x1000 access=""
expect err=EINVAL

# faults: ten reads of unmapped pages; 4 per second are logged, 3 are kept
dma-read dev=a iova=0x10000 len=1
expect err=ENOENT
dma-read dev=a iova=0x11000 len=1
expect err=ENOENT
dma-read dev=a iova=0x12000 len=1
expect err=ENOENT
dma-read dev=a iova=0x13000 len=1
expect err=ENOENT
dma-read dev=a iova=0x14000 len=1
expect err=ENOENT
dma-write dev=a iova=0x15000 data=00
expect err=ENOENT
fault-log iommu=io max=2
expect records=2
fault-log iommu=io
expect records=1
iommu-stats iommu=io
expect not-present=6 logged=4 ratelimited=2 overflow=1

# an IOMMU without a memory map: DMA from a command file is refused
iommu-create name=host
dev-create iommu=host name=h rid=0x200
dma-read dev=h iova=0x1000 len=4
iommu-stats iommu=io

# Every public operation of the core from a command file: IOMMU page sizes
# and teardown, device lookup, scatter-gather DMA, a domain over a table the
# caller owns, a domain's own table through the pgtable verbs, and results
# kept in variables (no allocator answer written into the file).
log-level level=warn
mem-create name=m
mem-add mem=m name=ram kind=ram pa=0x100000 size=1M
iommu-create name=io mem=m pgsizes=4K,2M prq=64
iommu-info iommu=io
expect pgsizes=4K,2M prq=64
dev-create iommu=io name=nic rid=0x0210
dev-find iommu=io rid=0x0210
expect found=yes dev=nic
dev-find iommu=io rid=0x0211
expect found=no

# dma-map at an allocated IOVA, used through a variable
domain-create iommu=io name=d fmt=vtd-ss dirty=yes
attach dev=nic domain=d
domain-dma-map domain=d pa=0x100000 size=8K as=buf
translate dev=nic iova=$buf.iova+0x1004
expect pa=0x101004 size=4K
dma-write dev=nic iova=$buf.iova+0xffe data=a1a2a3a4
mem-read mem=m pa=0x100ffe len=4
expect data=a1a2a3a4

# scatter-gather: elements in order, each split at its pages
domain-dma-map domain=d pa=0x180000 size=4K as=buf2
dma-write-sg dev=nic sg=$buf.iova:0102,$buf2.iova+0xffe:b1b2,$buf.iova+0x1ffe:c1c2
dma-read-sg dev=nic sg=$buf.iova:2,$buf2.iova+0xffe:2,$buf.iova+0x1ffe:2,$buf.iova+0xffe:4
expect data=0102,b1b2,c1c2,a1a2a3a4
mem-read mem=m pa=0x180ffe len=2
expect data=b1b2
# a fault stops the list: the elements before it were done, not those after
dma-write-sg dev=nic sg=$buf2.iova:eeee,0x1000:ffff,$buf2.iova+2:dddd
expect err=ENOENT
mem-read mem=m pa=0x180000 len=4
expect data=eeee0000
dma-read-sg dev=nic sg=$buf2.iova:2,0x1000:2
expect err=ENOENT
fault-log iommu=io
expect records=2

# the domain's own table, through the pgtable verbs
pt-info domain=d
expect fmt=vtd-ss levels=3
pt-walk domain=d iova=$buf.iova
expect leaf=4K
pt-level domain=d iova=$buf2.iova
expect level=4K
pt-iova-to-phys domain=d iova=$buf2.iova+0x10
expect pa=0x180010
pt-dump domain=d dev=0000:02:02.0
# dirty tracking: the writes above dirtied both pages of buf.  Clearing
# drops the range from the IOTLB, so that the next write walks and sets the
# dirty bit again (a hit on the entry an earlier write filled would not)
pt-dirty domain=d iova=$buf.iova size=8K
expect dirty=2 bitmap=0x3
pt-dirty domain=d iova=$buf.iova size=8K
expect dirty=0
dma-write dev=nic iova=$buf.iova+0x1000 data=00
pt-dirty domain=d iova=$buf.iova size=8K clear=no
expect dirty=1 bitmap=0x2
translate dev=nic iova=$buf.iova+0x1000 access=w
expect hit=yes
domain-dma-unmap domain=d iova=$buf.iova size=8K
expect unmapped=0x2000
domain-dma-unmap domain=d iova=$buf2.iova size=4K

# a domain over a table the caller made and changes itself: after each
# change the caller invalidates the domain's IOTLB
pt-create name=t fmt=x86-64
pt-map pt=t iova=0x40000000 pa=0x100000 size=4K prot=rw
domain-create iommu=io name=ext pt=t
replace dev=nic domain=ext
translate dev=nic iova=0x40000010
expect pa=0x100010 hit=no
pt-map pt=t iova=0x40001000 pa=0x101000 size=4K
dma-read dev=nic iova=0x40001ffe len=2
expect data=c1c2
pt-unmap pt=t iova=0x40000000 size=4K
pt-sync pt=t
translate dev=nic iova=0x40000010
expect hit=yes
domain-invalidate domain=ext iova=0x40000000 size=4K wait=yes
translate dev=nic iova=0x40000010
expect err=ENOENT
pt-dump domain=ext
# the table outlives the domain
pt-destroy pt=t
expect err=EBUSY
detach dev=nic
domain-destroy domain=ext
pt-destroy pt=t

# teardown: an IOMMU goes only after its devices and domains
iommu-destroy iommu=io
expect err=EBUSY
dev-destroy dev=nic
domain-destroy domain=d
iommu-destroy iommu=io
iommu-create name=io mem=m

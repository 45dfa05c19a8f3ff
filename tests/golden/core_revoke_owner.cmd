# A revocation owner (the CLI) keeps the records of its domain's mappings: a revoke
# calls it (once per region and domain) instead of the core tearing them
# down, and it unmaps what it mapped of the range.  The core's own records
# still serve a domain without an owner.  Maps into a revoked region are
# refused in both; mem-check tells whether a range touches one.
log-level level=err
mem-create name=m
mem-add mem=m name=a kind=ram pa=0x100000 size=16K
mem-add mem=m name=b kind=ram pa=0x200000 size=16K
iommu-create name=io mem=m
dev-create iommu=io name=nic rid=0x0210
domain-create iommu=io name=own
domain-create iommu=io name=plain
domain-revoke-owner domain=own
domain-revoke-owner domain=own
expect err=EBUSY
domain-map domain=own iova=0x10000 pa=0x100000 size=8K
domain-map domain=own iova=0x20000 pa=0x200000 size=4K
domain-map domain=own iova=0x30000 pa=0x102000 size=8K
# a partial unmap leaves the owner the rest of the record
domain-unmap domain=own iova=0x31000 size=4K
expect unmapped=0x1000
domain-map domain=plain iova=0x10000 pa=0x100000 size=4K
# the core's records: an owner must be set before the first map
domain-revoke-owner domain=plain
expect err=EBUSY
attach dev=nic domain=own
dma-write dev=nic iova=0x10000 data=01020304
translate dev=nic iova=0x30010
expect pa=0x102010
mem-check mem=m pa=0x100000 size=16K
expect revoked=no
# a fault handler's maps are the owner's too
dev-create iommu=io name=gpu rid=0x0300 pri=yes
domain-create iommu=io name=own2
domain-revoke-owner domain=own2
domain-fault-handler domain=own2 mode=resolve pa=0x103000
attach dev=gpu domain=own2
dma-read dev=gpu iova=0x70000000 len=2
expect data=0000
# bytes no region holds are not revoked ones
mem-check mem=m pa=0x0 size=0x300000
expect revoked=no

mem-revoke region=a
mem-check mem=m pa=0x100000 size=4K
expect err=ENODEV
mem-check mem=m pa=0x0ff000 size=8K
expect err=ENODEV
mem-check mem=m pa=0x200000 size=16K
expect revoked=no
mem-check mem=m pa=0x100000 size=0
expect err=EINVAL
# every mapping of region a is gone from both domains, b's stays
translate dev=nic iova=0x10000
expect err=ENOENT
translate dev=nic iova=0x30010
expect err=ENOENT
translate dev=nic iova=0x20000
expect pa=0x200000
translate dev=gpu iova=0x70000000
expect err=ENOENT
pt-iova-to-phys domain=plain iova=0x10000
expect err=ENOENT
domain-map domain=own iova=0x40000 pa=0x101000 size=4K
expect err=ENODEV
domain-map domain=plain iova=0x40000 pa=0x101000 size=4K
expect err=ENODEV
domain-dma-map domain=plain pa=0x101000 size=4K
expect err=ENODEV
# the owner's remaining record goes at the next revoke
mem-revoke region=b
translate dev=nic iova=0x20000
expect err=ENOENT

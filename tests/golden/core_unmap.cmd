# Strict and lazy unmap through the core, the flush queue, trace events,
# and revocation of a memory region tearing its mappings down.
log-level level=warn
mem-create name=m
mem-add mem=m name=ram kind=ram pa=0x100000 size=1M
mem-add mem=m name=vram kind=ram pa=0x400000 size=64K
iommu-create name=io mem=m
dev-create iommu=io name=gpu rid=0x300
domain-create iommu=io name=s
domain-create iommu=io name=l mode=lazy fq-batch=3 fq-timeout-ms=60000
attach dev=gpu domain=s
trace on=yes
domain-map domain=s iova=0x10000000 pa=0x100000 size=8K
trace on=no

# strict: the translation is gone when unmap returns, IOTLB included
translate dev=gpu iova=0x10001000
expect hit=no
translate dev=gpu iova=0x10001000
expect hit=yes
trace on=yes
domain-unmap domain=s iova=0x10001000 size=4K
expect unmapped=0x1000
trace on=no
translate dev=gpu iova=0x10001000
expect err=ENOENT
translate dev=gpu iova=0x10000000
expect pa=0x100000
# holes are skipped; a 2M leaf is not split
domain-unmap domain=s iova=0x10000000 size=2M
expect unmapped=0x1000
domain-map domain=s iova=0x20000000 pa=0x200000 size=2M
translate dev=gpu iova=0x20100000
expect pa=0x300000 size=2M
domain-unmap domain=s iova=0x20000000 size=4K
expect err=EINVAL
domain-unmap domain=s iova=0x20000000 size=2M
expect unmapped=0x200000

# lazy: the IOTLB keeps the old translation until the queue drains
replace dev=gpu domain=l
domain-map domain=l iova=0x10000000 pa=0x100000 size=4K
translate dev=gpu iova=0x10000000
domain-unmap domain=l iova=0x10000000 size=4K
expect unmapped=0x1000
domain-info domain=l
expect fq_pending=1
translate dev=gpu iova=0x10000000
expect hit=yes
domain-flush domain=l
translate dev=gpu iova=0x10000000
expect err=ENOENT
# three queued unmaps drain the queue by count
domain-map domain=l iova=0x10000000 pa=0x100000 size=12K
domain-unmap domain=l iova=0x10000000 size=4K
domain-unmap domain=l iova=0x10001000 size=4K
domain-info domain=l
expect fq_pending=2
domain-unmap domain=l iova=0x10002000 size=4K
domain-info domain=l
expect fq_pending=0

# revocation: every mapping of the region goes, in every domain (the
# strict domain's 16K and the lazy one's 4K: two more strict unmaps)
domain-map domain=s iova=0x30000000 pa=0x400000 size=16K
domain-map domain=l iova=0x30000000 pa=0x400000 size=4K
domain-map domain=l iova=0x40000000 pa=0x100000 size=4K
dma-write dev=gpu iova=0x30000000 data=cafe
mem-revoke region=vram
dma-read dev=gpu iova=0x30000000 len=2
expect err=ENOENT
dma-read dev=gpu iova=0x40000000 len=2
domain-unmap domain=s iova=0x30000000 size=16K
expect unmapped=0
domain-unmap domain=l iova=0x40000000 size=4K
expect unmapped=0x1000
iommu-stats iommu=io
expect unmaps_strict=6 unmaps_lazy=5 fq_batches=2 fq_entries=4

# IOVA-allocating maps: top-down below the limit, released by the unmap
# (strict: at once; lazy: when the queue drains).  The IOVAs the allocator
# picks are kept in variables, not written here.
domain-dma-map domain=s pa=0x100000 size=8K limit=0xffffffff as=a
domain-dma-map domain=s pa=0x100000 size=4K limit=0xffffffff as=b
pt-iova-to-phys domain=s iova=$a.iova+0x1010
expect pa=0x101010
domain-dma-unmap domain=s iova=$a.iova size=8K
expect unmapped=0x2000
pt-iova-to-phys domain=s iova=$a.iova+0x1010
expect err=ENOENT
# strict: the range is free when the unmap returns, and comes back
domain-dma-map domain=s pa=0x100000 size=8K limit=0xffffffff
expect iova=$a.iova
# only the start of a mapped range unmaps it
domain-dma-unmap domain=s iova=$b.iova+0x800 size=4K
expect err=EINVAL
# lazy: the IOVA is not handed out again until the queue drains
domain-dma-map domain=l pa=0x100000 size=4K as=c
domain-dma-unmap domain=l iova=$c.iova size=4K
domain-dma-map domain=l pa=0x100000 size=4K
expect iova=$c.iova-4K
domain-flush domain=l
domain-dma-map domain=l pa=0x100000 size=4K
expect iova=$c.iova

# explicit IOTLB invalidation of a range (what a table's owner calls after
# changing it): a lazily unmapped page stops hitting at once
domain-map domain=l iova=0x50000000 pa=0x100000 size=4K
translate dev=gpu iova=0x50000000
domain-unmap domain=l iova=0x50000000 size=4K
translate dev=gpu iova=0x50000000
expect hit=yes
domain-invalidate domain=l iova=0x50000000 size=4K wait=yes
translate dev=gpu iova=0x50000000
expect err=ENOENT
domain-invalidate domain=l iova=0x50000000 size=0
expect err=EINVAL

# Domains of an IOAS: filled on the first attach (also with areas mapped
# before), kept in sync by map and unmap, emptied by the last detach.
# Revocation of a memory-map region an area maps (seeds 003 + 004): the
# pinning accesses are asked to let go before the revoke returns, the
# domain's table loses the area, pins and rw fail ENODEV; also with no
# domain attached, where only the IOAS's own revoke notifier can tell them.
mem-create name=m
mem-add mem=m name=ram kind=ram pa=0x100000 size=64K
mem-add mem=m name=ram2 kind=ram pa=0x200000 size=16K
iommu-create name=io mem=m
dev-create iommu=io name=nic rid=0x0100
ioas-create name=a iommu=io
ioas-map ioas=a region=ram size=16K iova=0x10000
mem-write mem=m pa=0x100000 data=0102030405060708
ioas-domain-create name=d ioas=a
ioas-info ioas=a
expect domains=1 filled=0
ioas-attach dev=nic domain=d
ioas-info ioas=a
expect filled=1
dma-read dev=nic iova=0x10000 len=8
expect data=0102030405060708
# kept in sync
ioas-map ioas=a region=ram offset=32K size=8K iova=0x40000
dma-write dev=nic iova=0x40004 data=aabb
mem-read mem=m pa=0x108004 len=2
expect data=aabb
ioas-unmap ioas=a iova=0x40000 size=8K
dma-read dev=nic iova=0x40004 len=2
expect err=ENOENT
# a domain is freed only once detached; detach empties it
ioas-domain-free domain=d
expect err=EBUSY
ioas-detach dev=nic
dma-read dev=nic iova=0x10000 len=1
expect err=ENODATA
ioas-attach dev=nic domain=d
dma-read dev=nic iova=0x10001 len=1
expect data=02

# revoke with the domain attached: asked, table torn down, ENODEV after
access-create name=mdev ioas=a
access-create name=reader ioas=a mode=none
access-pin access=mdev iova=0x11000 size=4K
ioas-info ioas=a
expect pinned-pages=1
mem-revoke region=ram
ioas-info ioas=a
expect pinned-pages=0
ioas-area ioas=a iova=0x10000
expect revoked=yes pa=0x100000
dma-read dev=nic iova=0x10000 len=1
expect err=ENOENT
access-pin access=mdev iova=0x10000 size=4K
expect err=ENODEV
access-rw access=reader iova=0x10000 len=1
expect err=ENODEV
ioas-map ioas=a region=ram size=4K iova=0x50000
expect err=ENODEV
ioas-unmap ioas=a iova=0x10000 size=16K
expect unmapped=0x4000

# revoke with no domain attached: the accesses are still asked
ioas-map ioas=a region=ram2 size=16K iova=0x20000
access-pin access=mdev iova=0x22000 size=8K
ioas-detach dev=nic
mem-revoke region=ram2
ioas-info ioas=a
expect pinned-pages=0 filled=0
access-rw access=reader iova=0x20000 len=1
expect err=ENODEV
ioas-unmap ioas=a all=yes
expect unmapped=0x4000
access-destroy access=mdev
access-destroy access=reader
ioas-domain-free domain=d
ioas-destroy ioas=a

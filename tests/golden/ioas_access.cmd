# Access objects (seed 004): pins by IOVA, rw through the IOAS, and the
# unmap protocol.  A cooperative access is asked and unpins, so the unmap
# succeeds; a stuck one is asked every round and the unmap is refused with
# EBUSY, nothing unmapped, the holder named (a line here, a warning on
# stderr); a later unpin lets the same unmap succeed.  An unrevocable pin
# makes the unmap EBUSY at once, without a callback.
iommu-create name=io
ioas-create name=a iommu=io
ioas-map ioas=a size=16K iova=0x10000 fill=0x5a
ioas-map ioas=a size=16K iova=0x14000 fill=0xa5 prot=r
access-create name=mdev ioas=a
access-create name=stuck ioas=a mode=stuck
access-create name=forever ioas=a mode=unrevocable
access-create name=reader ioas=a mode=none
access-info access=stuck
expect id=2 pins=0

# pins across two areas; counts per page
access-pin access=mdev iova=0x13000 size=8K
expect pages=2 first-bytes=5a
access-pin access=mdev iova=0x14000 size=4K write=yes
expect err=EPERM
access-pin access=reader iova=0x10000 size=4K
expect err=EPERM
access-pin access=mdev iova=0x18000 size=4K
expect err=ENOENT
ioas-info ioas=a
expect pinned-pages=2 accesses=4
access-unpin access=mdev iova=0x13000 size=4K
expect err=EINVAL

# rw: byte granular, across areas, writes refused on the read-only area
access-rw access=reader iova=0x13ffe len=4
expect data=5a5aa5a5
access-rw access=reader iova=0x10001 data=0102
access-rw access=reader iova=0x10000 len=4
expect data=5a01025a
access-rw access=reader iova=0x14000 data=ff
expect err=EPERM
access-rw access=reader iova=0x17fff len=2
expect err=ENOENT

# a cooperative holder: asked, unpins, the unmap goes through
ioas-unmap ioas=a iova=0x10000 size=8K
expect err=ENOENT
ioas-unmap ioas=a iova=0x10000 size=32K
expect unmapped=0x8000
ioas-info ioas=a
expect areas=0 pinned-pages=0

# a stuck holder: EBUSY after its rounds, nothing unmapped, named
ioas-map ioas=a size=16K iova=0x10000 fill=0x77
ioas-retries ioas=a rounds=3
access-pin access=stuck iova=0x11000 size=4K
access-pin access=mdev iova=0x12000 size=4K
ioas-unmap ioas=a iova=0x10000 size=16K
expect err=EBUSY
ioas-holders ioas=a iova=0x10000 size=16K
expect holders=1 ids=2
ioas-info ioas=a
expect areas=1 pinned-pages=1
# pins and rw work again
access-pin access=mdev iova=0x13000 size=4K
access-rw access=reader iova=0x11000 len=1
expect data=77
access-unpin access=stuck iova=0x11000 size=4K
ioas-unmap ioas=a iova=0x10000 size=16K
expect unmapped=0x4000

# an unrevocable pin: EBUSY at once, no callback
ioas-map ioas=a size=4K iova=0x20000
access-pin access=forever iova=0x20000 size=4K
ioas-unmap ioas=a all=yes
expect err=EBUSY
access-destroy access=forever
expect err=EBUSY
access-unpin access=forever iova=0x20000 size=4K
access-destroy access=forever

# destroy asks first; replace moves an access to another IOAS
access-pin access=mdev iova=0x20000 size=4K
access-destroy access=mdev
ioas-create name=b iommu=io
access-pin access=stuck iova=0x20000 size=4K
access-replace access=stuck ioas=b
expect err=EBUSY
access-unpin access=stuck iova=0x20000 size=4K
access-replace access=stuck ioas=b
access-info access=stuck
expect id=1 pins=0
ioas-destroy ioas=a
expect err=EBUSY
access-destroy access=reader
ioas-destroy ioas=a
# what is left (an access moved to b after b was made) goes cleanly at the end
access-pin access=stuck iova=0x0 size=4K
expect err=ENOENT

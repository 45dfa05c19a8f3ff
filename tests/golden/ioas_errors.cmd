# Bad input at the ioas verbs: the library's clear errors (nothing changed)
# and, last, a usage error of the command language, which stops the run.
iommu-create name=io
ioas-create name=a iommu=io
ioas-map ioas=a size=4K iova=0x1000 mem=memfd prot=r
ioas-retries ioas=a rounds=0
expect err=EINVAL
ioas-reserve ioas=a start=0x2000 last=0x1fff
expect err=EINVAL
ioas-unreserve ioas=a start=0x0 last=0xfff
expect err=ENOENT
ioas-allow ioas=a ranges=0x0-0x1ffe
expect err=EINVAL
ioas-allow ioas=a ranges=0x0-0x1fff,0x1000-0x2fff
expect err=EINVAL
ioas-holders ioas=a iova=0x0 size=0
expect err=EINVAL
ioas-unmap ioas=a iova=0x1000 size=0
expect err=EINVAL
ioas-area ioas=a iova=0x0
expect err=ENOENT
access-create name=x ioas=a
access-pin access=x iova=0x800 size=4K
expect err=EINVAL
access-pin access=x iova=0x0 size=4K
expect err=ENOENT
access-rw access=x iova=0xffffffffffffffff len=2
expect err=EOVERFLOW
ioas-info ioas=a
expect areas=1 accesses=1 pinned-pages=0
ioas-unmap ioas=a all=yes
expect unmapped=0x1000
ioas-map ioas=a size=4K mem=shm

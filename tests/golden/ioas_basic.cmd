# I/O address spaces (seed 004's ground): maps of memory the CLI makes (host,
# memfd, files) at fixed and chosen IOVAs, the map errors with nothing
# changed, copy sharing pages, unmap of whole areas only, the usable IOVA
# ranges, allowed and reserved ranges.
iommu-create name=io
ioas-create name=a iommu=io
ioas-info ioas=a
expect areas=0 mapped=0x0

# fixed and chosen IOVAs; a 2 MiB map gets a 2 MiB aligned IOVA
ioas-map ioas=a size=16K iova=0x100000 fill=0x11
expect iova=0x100000
ioas-map ioas=a size=8K fill=0x22 as=auto
expect iova=0x0
ioas-map ioas=a size=2M fill=0x33
expect iova=0x200000
ioas-area ioas=a iova=0x101000
expect iova=0x100000 size=0x4000 prot=rw type=host
ioas-info ioas=a
expect areas=3 mapped=0x206000 pages-objects=3

# every map error changes nothing
ioas-map ioas=a size=4K iova=0x103000
expect err=EEXIST
ioas-map ioas=a size=0 iova=0x900000
expect err=EINVAL
ioas-map ioas=a size=0x1800 iova=0x900000
expect err=EINVAL
ioas-map ioas=a size=4K iova=0x900800
expect err=EINVAL
ioas-map ioas=a size=8K iova=0xfffffffffffff000
expect err=EOVERFLOW
ioas-map ioas=a size=4K mem=host-ro iova=0x900000
expect err=EPERM
ioas-map ioas=a size=4K mem=host-ro iova=0x900000 prot=r
ioas-map ioas=a size=4K mem=memfd-sealed iova=0x910000
expect err=EPERM
ioas-map ioas=a size=4K mem=memfd-sealed iova=0x910000 prot=r
ioas-map ioas=a size=4K mem=file-ro iova=0x920000
expect err=EPERM
ioas-map ioas=a size=8K mem=file-ro iova=0x920000 prot=r fill=0x44
ioas-map ioas=a size=8K mem=memfd iova=0x930000 fill=0x55
ioas-area ioas=a iova=0x921000
expect type=file prot=r
ioas-area ioas=a iova=0x930000
expect type=memfd
ioas-info ioas=a
expect areas=7

# copy: a sub-range of an area, sharing its pages (pinned once)
ioas-create name=b iommu=io
ioas-copy ioas=b src=a src-iova=0x101000 size=8K iova=0x40000
expect iova=0x40000
ioas-area ioas=b iova=0x40000
expect size=0x2000 pages-users=2
ioas-copy ioas=b src=a src-iova=0x921000 size=4K iova=0x50000
expect err=EPERM
ioas-copy ioas=b src=a src-iova=0x921000 size=4K iova=0x50000 prot=r
ioas-copy ioas=b src=a src-iova=0x104000 size=4K iova=0x60000
expect err=ENOENT
ioas-unmap ioas=b all=yes
expect unmapped=0x3000

# unmap: whole areas only, nothing unmapped otherwise
ioas-unmap ioas=a iova=0x100000 size=8K
expect err=ENOENT
ioas-unmap ioas=a iova=0x400000 size=4K
expect err=ENOENT
ioas-unmap ioas=a iova=0x100000 size=16K
expect unmapped=0x4000
ioas-unmap ioas=a iova=0x900000 size=0x40000
expect unmapped=0x6000
ioas-info ioas=a
expect areas=2

# usable ranges, allowed and reserved ranges
ioas-iova-ranges ioas=a
expect ranges=1
ioas-reserve ioas=a start=0x80000000 last=0x8fffffff
ioas-reserve ioas=a start=0x0 last=0xfff
expect err=EEXIST
ioas-iova-ranges ioas=a
expect ranges=2
ioas-iova-ranges ioas=a max=1
expect err=EMSGSIZE
ioas-map ioas=a size=4K iova=0x80001000
expect err=EINVAL
ioas-allow ioas=a ranges=0x0-0xffffffff
expect err=EADDRINUSE
ioas-unreserve ioas=a start=0x80000000 last=0x8fffffff
ioas-allow ioas=a ranges=0x0-0xffffffff
ioas-allow ioas=a ranges=0x1000000-0x1ffffff
expect err=EADDRINUSE
ioas-iova-ranges ioas=a
expect ranges=1
ioas-map ioas=a size=4K iova=0x100000000
expect err=EINVAL
ioas-allow ioas=a
ioas-unmap ioas=a all=yes
expect unmapped=0x202000
ioas-unmap ioas=a all=yes
expect unmapped=0x0
ioas-destroy ioas=b
ioas-destroy ioas=a

# I/O page tables, bad input: a clear error and nothing changed.
pt-create name=bad fmt=vtd-ss levels=2
expect err=EINVAL
pt-create name=bad fmt=arm-lpae-s1 levels=3
expect err=EINVAL
pt-create name=bad fmt=x86-64 exec=yes
expect err=EINVAL
pt-create name=bad fmt=vtd-ss pgsizes=2M,1G
expect err=EINVAL
pt-create name=bad fmt=vtd-ss phys_base=0x1234
expect err=EINVAL
pt-create name=t fmt=vtd-ss max_pages=3
# unaligned, empty, no permission, beyond the 39-bit input or 52-bit output
pt-map pt=t iova=0x800 pa=0 size=4K
expect err=EINVAL
pt-map pt=t iova=0 pa=0x800 size=4K
expect err=EINVAL
pt-map pt=t iova=0 pa=0 size=0
expect err=EINVAL
pt-map pt=t iova=0 pa=0 size=4K prot=c
expect err=EINVAL
pt-map pt=t iova=0x7ffffff000 pa=0 size=8K
expect err=ERANGE
pt-map pt=t iova=0 pa=0xffffffffff000 size=8K
expect err=ERANGE
pt-iova-to-phys pt=t iova=0x8000000000
expect err=ERANGE
pt-level pt=t iova=0x8000000000
expect err=ERANGE
pt-unmap pt=t iova=0 size=0x800
expect err=EINVAL
pt-dirty pt=t iova=0 size=4K
expect err=EOPNOTSUPP
# the pool holds three pages: a map needing a fourth fails, nothing mapped
pt-map pt=t iova=0 pa=0 size=4K
pt-map pt=t iova=0x1ff000 pa=0 size=8K
expect err=ENOMEM
pt-iova-to-phys pt=t iova=0x1ff000
expect err=ENOENT
pt-info pt=t
expect pages=3
pt-dump pt=t dev=0000:00:00.0
# a malformed device is a usage error: the run stops here
pt-dump pt=t dev=00:1f.2
pt-info pt=t

# workers= is a count of threads (the library bounds it further).
iommu-create name=io
iopf-create iommu=io name=f mode=workers workers=1000
expect err=EINVAL
iopf-create iommu=io name=f mode=workers workers=0x100000000

# drain-timeout= is milliseconds or nowait.
iommu-create name=io
iopf-create iommu=io name=f drain-timeout=soon

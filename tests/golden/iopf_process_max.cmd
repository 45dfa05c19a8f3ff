# iopf-process max= is bounded.
iommu-create name=io
iopf-create iommu=io name=f mode=manual
iopf-process iopf=f max=0x100000000

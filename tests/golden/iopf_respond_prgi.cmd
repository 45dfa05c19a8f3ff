# iopf-respond prgi= is bounded.
iommu-create name=io
dev-create iommu=io name=d rid=8 pri=yes
iopf-create iommu=io name=f mode=manual
iopf-enable dev=d iopf=f
iopf-respond iopf=f dev=d prgi=70000

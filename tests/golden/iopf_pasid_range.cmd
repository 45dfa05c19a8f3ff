# iopf-report pasid= is bounded.
iommu-create name=io pasid-bits=8
dev-create iommu=io name=d rid=8 pri=yes pasid=yes pasid-bits=8
iopf-create iommu=io name=f mode=manual
iopf-enable dev=d iopf=f
iopf-report iopf=f dev=d prgi=1 pasid=0x100000000 last=yes

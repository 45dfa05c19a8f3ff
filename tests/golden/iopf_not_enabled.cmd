# A device must be enabled on the iopf before it reports.
iommu-create name=io pasid-bits=8
dev-create iommu=io name=d rid=8 pri=yes
iopf-create iommu=io name=f mode=manual
iopf-report iopf=f dev=d prgi=1 last=yes

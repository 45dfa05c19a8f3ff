# A PRG index and a group's count are 16-bit numbers here (the library
# refuses PRG indexes above 511 itself).
iommu-create name=io pasid-bits=8
dev-create iommu=io name=d rid=8 pri=yes
iopf-create iommu=io name=f mode=manual
iopf-enable dev=d iopf=f
iopf-report iopf=f dev=d prgi=512 last=yes
expect err=EINVAL
iopf-report iopf=f dev=d prgi=70000 last=yes

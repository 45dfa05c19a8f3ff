# A fault queue serves the iopf it was made on.
iommu-create name=io
domain-create iommu=io name=D
iopf-create iommu=io name=f
fq-create iopf=f name=q
iommu-create name=io2
iopf-create iommu=io2 name=g
domain-create iommu=io2 name=E
iopf-handler iopf=g domain=E mode=fq fq=q

# iopf-answer needs a hold handler on the domain.
iommu-create name=io
domain-create iommu=io name=D
iopf-create iommu=io name=f mode=manual
iopf-handler iopf=f domain=D mode=success
iopf-answer iopf=f domain=D

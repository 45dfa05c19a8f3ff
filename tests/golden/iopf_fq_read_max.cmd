# fq-read max= is bounded.
iommu-create name=io
iopf-create iommu=io name=f
fq-create iopf=f name=q
fq-read fq=q max=65

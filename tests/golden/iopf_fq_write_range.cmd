# fq-write cookie= and raw-code= are 32 bits.
iommu-create name=io
iopf-create iommu=io name=f
fq-create iopf=f name=q
fq-write fq=q cookie=0x100000000

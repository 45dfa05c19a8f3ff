# Domain formats: x86-64, vtd-ss, arm-lpae-s1.
iommu-create name=io
domain-create iommu=io name=D fmt=riscv

# IOAS domain formats: x86-64, vtd-ss, arm-lpae-s1.
iommu-create name=io
ioas-create name=A iommu=io
ioas-domain-create name=D ioas=A fmt=riscv

# ioas-unmap takes iova= and size=, or all=yes.
iommu-create name=io
ioas-create name=A iommu=io
ioas-unmap ioas=A iova=0x10000

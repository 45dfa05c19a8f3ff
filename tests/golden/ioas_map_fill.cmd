# ioas-map fill= is a byte.
iommu-create name=io
ioas-create name=A iommu=io
ioas-map ioas=A iova=0x10000 size=8K fill=0x100

# A PASID is at most 32 bits.
iommu-create name=io
dev-create iommu=io name=d rid=8
ioas-create name=A iommu=io
ioas-domain-create name=D ioas=A
ioas-attach dev=d domain=D pasid=0x100000000

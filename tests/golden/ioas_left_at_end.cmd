# A run that ends with everything still in place: the CLI takes it down in
# order (the access's pin, the attachments, the IOAS domain, the IOAS), and
# the run succeeds.
iommu-create name=io pasid-bits=8
dev-create iommu=io name=d rid=8 pasid=yes pasid-bits=8
ioas-create name=A iommu=io
ioas-map ioas=A iova=0x10000 size=8K fill=0x5a
ioas-domain-create name=D ioas=A
ioas-attach dev=d domain=D
ioas-attach dev=d domain=D pasid=3
access-create name=M ioas=A
access-pin access=M iova=0x10000 size=4K
access-rw access=M iova=0x10000 len=4

# Access names are unique.
iommu-create name=io
ioas-create name=A iommu=io
access-create name=M ioas=A
access-create name=M ioas=A

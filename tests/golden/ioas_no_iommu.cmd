# ioas-create names an IOMMU that exists.
ioas-create name=A iommu=nope

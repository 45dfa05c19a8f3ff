# IOAS names are unique.
iommu-create name=io
ioas-create name=A iommu=io
ioas-create name=A iommu=io

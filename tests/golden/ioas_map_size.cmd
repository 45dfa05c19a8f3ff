# Memory the CLI makes for ioas-map is bounded.
iommu-create name=io
ioas-create name=A iommu=io
ioas-map ioas=A iova=0x10000 size=1T

# ioas-domain-create levels= is bounded.
iommu-create name=io
ioas-create name=A iommu=io
ioas-domain-create name=D ioas=A levels=9

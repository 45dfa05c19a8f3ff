# ioas-iova-ranges max= is bounded.
iommu-create name=io
ioas-create name=A iommu=io
ioas-iova-ranges ioas=A max=65

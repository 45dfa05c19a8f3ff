# ranges= bounds are numbers.
iommu-create name=io
ioas-create name=A iommu=io
ioas-allow ioas=A ranges=0x1000-zz

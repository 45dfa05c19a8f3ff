# ranges= is START-LAST,...
iommu-create name=io
ioas-create name=A iommu=io
ioas-allow ioas=A ranges=0x1000-0x1fff,0x5000

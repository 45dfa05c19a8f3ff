# access-rw data= is pairs of hex digits.
iommu-create name=io
ioas-create name=A iommu=io
ioas-map ioas=A iova=0x10000 size=8K
access-create name=M ioas=A
access-rw access=M iova=0x10000 data=abc

# layer-priv takes a device or a domain, not both.
iommu-create name=io
dev-create iommu=io name=d rid=8
domain-create iommu=io name=D
layer-register iommu=io name=L
layer-priv layer=L dev=d domain=D set=x

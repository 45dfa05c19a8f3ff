# A layer registered after the IOAS's refuses the attach: the ioas layer's
# prepare (which filled the domain) is aborted: the domain is not filled
# and nothing is attached; with the layer gone the attach fills it.
iommu-create name=io
dev-create iommu=io name=d rid=8
ioas-create name=A iommu=io
ioas-map ioas=A iova=0x10000 size=8K
layer-register iommu=io name=veto mode=refuse=EPERM
ioas-domain-create name=D ioas=A
ioas-attach dev=d domain=D
expect err=EPERM
dev-domain dev=d
ioas-info ioas=A
expect domains=1 filled=0
layer-unregister layer=veto
ioas-attach dev=d domain=D
ioas-info ioas=A
expect filled=1
ioas-detach dev=d
ioas-info ioas=A
expect filled=0
ioas-domain-free domain=D

# The two-phase attach protocol, shown by two CLI layers that print their
# steps: prepare in registration order, the switch, commit in registration
# order; a refusing prepare aborts the layers before it, in reverse order,
# and changes nothing.  The attachments come from the library.
log-level level=warn
mem-create name=m
mem-add mem=m name=ram kind=ram pa=0x100000 size=64K
iommu-create name=io mem=m pasid-bits=8
dev-create iommu=io name=nic rid=0x0210 pasid=yes pasid-bits=8
domain-create iommu=io name=d1
domain-create iommu=io name=d2
domain-create iommu=io name=blk type=blocked
layer-register iommu=io name=first
layer-register iommu=io name=second

attach dev=nic domain=d1
attach dev=nic pasid=7 domain=d2
replace dev=nic domain=d2
# replacing a domain by itself calls no layer
replace dev=nic domain=d2
attach dev=nic pasid=3 domain=blk
dev-attachments dev=nic
expect attachments=3
detach dev=nic pasid=7

# a third layer refuses: the two before it abort, nothing changes
layer-register iommu=io name=guard mode=refuse=EBUSY
replace dev=nic pasid=3 domain=d1
expect err=EBUSY
detach dev=nic
expect err=EBUSY
dev-attachments dev=nic
expect attachments=2
translate dev=nic pasid=3 iova=0x1000
expect err=EPERM
layer-unregister layer=guard
detach dev=nic

# private data: a word per layer on a device or domain; while it is set the
# object and the layer cannot go
layer-priv layer=first dev=nic set=tag-a
expect priv=tag-a
layer-priv layer=second dev=nic
expect priv=none
layer-priv layer=first domain=d1 set=dom-word
layer-priv layer=first domain=d1 set=other
expect priv=other
layer-unregister layer=first
expect err=EBUSY
domain-destroy domain=d1
expect err=EBUSY
layer-priv layer=first domain=d1 clear=yes
expect priv=none
domain-destroy domain=d1
# layers live: the IOMMU cannot go
iommu-destroy iommu=io
expect err=EBUSY

# a layer of another IOMMU has no slot on these objects
iommu-create name=io2
layer-register iommu=io2 name=alien mode=refuse
layer-priv layer=alien dev=nic set=x
expect err=EINVAL
# a refusing layer of io2 does not take part in io's protocol
detach dev=nic pasid=3
dev-attachments dev=nic
expect attachments=0
# unattached, but the private data of layer first is set
dev-destroy dev=nic
expect err=EBUSY

# the end of the run clears private data and detaches what is left
attach dev=nic domain=d2

# Domain ids are reused once their domain is destroyed (the lowest free
# one); a dma_unmap must give the exact size of its dma_map; attachments
# are what the library reports (dev-attachments), in its order.
log-level level=err
mem-create name=m
mem-add mem=m name=ram kind=ram pa=0x100000 size=64K
iommu-create name=io mem=m pasid-bits=8
dev-create iommu=io name=nic rid=0x0210 pasid=yes pasid-bits=8
domain-create iommu=io name=d1
domain-info domain=d1 as=i1
domain-create iommu=io name=d2
domain-info domain=d2 as=i2
domain-destroy domain=d1
domain-create iommu=io name=d3
domain-info domain=d3
expect domid=$i1.domid
domain-create iommu=io name=d4
domain-info domain=d4 as=i4
domain-info domain=d2
expect domid=$i2.domid

# the exact size, and only once
domain-dma-map domain=d3 pa=0x100000 size=8K as=buf
domain-dma-unmap domain=d3 iova=$buf.iova size=4K
expect err=EINVAL
domain-dma-unmap domain=d3 iova=$buf.iova size=16K
expect err=EINVAL
domain-dma-unmap domain=d3 iova=$buf.iova size=8K
expect unmapped=8K
domain-dma-unmap domain=d3 iova=$buf.iova size=8K
expect err=EINVAL

# attachments in the library's order, whatever the order of the attaches
dev-attachments dev=nic
expect attachments=0
attach dev=nic pasid=200 domain=d4
attach dev=nic pasid=9 domain=d2
attach dev=nic domain=d3
attach dev=nic pasid=17 domain=d3
dev-attachments dev=nic
expect attachments=4
dev-info dev=nic
expect attached=yes pasids=3
dev-domain dev=nic pasid=9
expect domain=d2
detach dev=nic
dev-domain dev=nic
expect domain=-
dev-attachments dev=nic
expect attachments=3
# left attached: the end of the run detaches them (the library lists them)

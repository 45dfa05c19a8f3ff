# The stale-insert rule: a translation read from a page table before an
# invalidation is not cached after it.  iotlb-seq is taken where a translate
# path would start its page-table walk; iotlb-insert seq= is its insert.
iotlb-create name=t
expect capacity=512 ways=4
iotlb-seq tlb=t name=walk1 dom=1 pasid=2 iova=0x7000
# an unmap changes the table and invalidates, while the walk runs
iotlb-inv-range tlb=t dom=1 pasid=2 iova=0x7000 size=4K
expect removed=0
iotlb-insert tlb=t dom=1 pasid=2 iova=0x7000 addr=0xdead000 seq=walk1
expect err=EAGAIN
iotlb-lookup tlb=t dom=1 pasid=2 iova=0x7000
expect hit=no
# a walk that starts after the invalidation caches its answer
iotlb-seq tlb=t name=walk2 dom=1 pasid=2 iova=0x7000
iotlb-insert tlb=t dom=1 pasid=2 iova=0x7000 addr=0xbeef000 seq=walk2
iotlb-lookup tlb=t dom=1 pasid=2 iova=0x7000
expect hit=yes addr=0xbeef000
# invalidations of other domains, PASIDs or 1 GiB regions leave it valid
iotlb-seq tlb=t name=walk3 dom=1 pasid=2 iova=0x8000
iotlb-inv-domain tlb=t dom=4
iotlb-inv-range tlb=t dom=1 pasid=2 iova=5G size=4K
iotlb-insert tlb=t dom=1 pasid=2 iova=0x8000 addr=0xc0000 seq=walk3
# and every kind that covers it makes it stale
iotlb-seq tlb=t name=walk4 dom=1 pasid=2 iova=0x9000
iotlb-inv-pasid tlb=t pasid=2
iotlb-insert tlb=t dom=1 pasid=2 iova=0x9000 addr=0xc1000 seq=walk4
expect err=EAGAIN
iotlb-seq tlb=t name=walk5 dom=1 pasid=2 iova=0x9000
iotlb-inv-all tlb=t
iotlb-insert tlb=t dom=1 pasid=2 iova=0x9000 addr=0xc1000 seq=walk5
expect err=EAGAIN
# a sequence belongs to one tag
iotlb-seq tlb=t name=walk6 dom=1 pasid=2 iova=0x9000
iotlb-insert tlb=t dom=1 pasid=3 iova=0x9000 addr=0xc1000 seq=walk6
expect err=EINVAL
iotlb-stats tlb=t
expect stale=3

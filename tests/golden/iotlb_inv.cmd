# IOTLB invalidation: by range (every page size that overlaps it), by range
# for any PASID, by PASID (in one domain or all), by domain, everything.
iotlb-create name=t capacity=64 ways=4
expect capacity=64 ways=4
iotlb-insert tlb=t dom=1 iova=0x40201000 addr=0x1000
iotlb-insert tlb=t dom=1 iova=0x40200000 addr=0x200000 size=2M
iotlb-insert tlb=t dom=1 iova=1G addr=1G size=1G
iotlb-insert tlb=t dom=1 iova=0x40202000 addr=0x2000
iotlb-insert tlb=t dom=1 pasid=5 iova=0x40201000 addr=0x1000
iotlb-insert tlb=t dom=2 iova=0x40201000 addr=0x1000
# one byte of the 4K page at 0x40201000: that page, the 2M and 1G pages
# holding it go; the neighbour page, PASID 5 and domain 2 stay
iotlb-inv-range tlb=t dom=1 iova=0x40201800 size=1
expect removed=3
iotlb-lookup tlb=t dom=1 iova=0x40201000
expect hit=no
iotlb-lookup tlb=t dom=1 iova=0x40202000
expect hit=yes size=4K
iotlb-lookup tlb=t dom=1 pasid=5 iova=0x40201000
expect hit=yes
iotlb-dump tlb=t
# every PASID of domain 1
iotlb-insert tlb=t dom=1 pasid=7 iova=0x40202000 addr=0x2000
iotlb-inv-range tlb=t dom=1 pasid=any iova=0x40200000 size=2M
expect removed=3
iotlb-lookup tlb=t dom=2 iova=0x40201000
expect hit=yes
# by PASID
iotlb-insert tlb=t dom=1 pasid=3 iova=0x5000 addr=0x5000
iotlb-insert tlb=t dom=2 pasid=3 iova=0x5000 addr=0x5000
iotlb-insert tlb=t dom=2 pasid=4 iova=0x5000 addr=0x5000
iotlb-inv-pasid tlb=t dom=1 pasid=3
expect removed=1
iotlb-inv-pasid tlb=t pasid=3
expect removed=1
iotlb-lookup tlb=t dom=2 pasid=4 iova=0x5000
expect hit=yes
# by domain, then everything
iotlb-inv-domain tlb=t dom=2
expect removed=2
iotlb-insert tlb=t dom=8 iova=0x9000 addr=0x9000
iotlb-insert tlb=t dom=9 iova=0x9000 addr=0x9000
iotlb-inv-all tlb=t
expect removed=2
iotlb-dump tlb=t
expect entries=0
iotlb-stats tlb=t

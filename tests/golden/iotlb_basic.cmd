# IOTLB basics: tags, page sizes, hits and misses, round-robin replacement.
# One set of four ways, so the replacement order is visible.
iotlb-create name=t capacity=4 ways=4
iotlb-lookup tlb=t dom=1 iova=0x1000
expect hit=no
iotlb-insert tlb=t dom=1 iova=0x1000 addr=0x80000 prot=1
expect evicted=no
# any address inside the page hits, and translates with its offset
iotlb-lookup tlb=t dom=1 iova=0x1234
expect hit=yes addr=0x80234 size=4K prot=0x1
# the tag is (domain, PASID, page, size): other domains and PASIDs miss
iotlb-lookup tlb=t dom=1 pasid=1 iova=0x1234
expect hit=no
iotlb-lookup tlb=t dom=2 iova=0x1234
expect hit=no
iotlb-lookup tlb=t dom=1 iova=0x2000
expect hit=no
# large pages
iotlb-insert tlb=t dom=1 iova=0x200000 addr=0x40000000 size=2M
iotlb-lookup tlb=t dom=1 iova=0x3ffff8
expect hit=yes addr=0x401ffff8 page=0x200000 size=2M
iotlb-insert tlb=t dom=1 iova=1G addr=0 size=1G prot=2
iotlb-lookup tlb=t dom=1 iova=0x7fffffff
expect hit=yes addr=0x3fffffff size=1G
iotlb-insert tlb=t dom=1 iova=0x2000 addr=0x81000
# re-inserting a tag updates it in place
iotlb-insert tlb=t dom=1 iova=0x2000 addr=0x91000 prot=3
expect evicted=no
iotlb-lookup tlb=t dom=1 iova=0x2000
expect addr=0x91000
iotlb-dump tlb=t
expect entries=4
# the set is full: the oldest entry goes, hits do not protect it (no LRU)
iotlb-insert tlb=t dom=1 iova=0x3000 addr=0x82000
expect evicted=yes
iotlb-lookup tlb=t dom=1 iova=0x1000
expect hit=no
iotlb-insert tlb=t dom=1 iova=0x4000 addr=0x83000
expect evicted=yes
iotlb-lookup tlb=t dom=1 iova=0x200000
expect hit=no
iotlb-dump tlb=t
iotlb-stats tlb=t
expect hits=4 misses=6 evictions=2
iotlb-destroy tlb=t

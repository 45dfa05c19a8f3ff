# Users of a table (pt-hold, and a domain over it) are counted by the
# library: pt-destroy is EBUSY while there are any.  pt-sync wait=no hands
# the pages to an RCU callback, pt-reclaim-wait waits until it ran.
# pt-invalidate-begin/end bracket a direct change: pt-seq says retry inside
# the bracket and after it, as its sequence moved.
log-level level=err
pt-create name=t fmt=x86-64
pt-hold pt=t
expect holds=1
pt-hold pt=t
expect holds=2
pt-destroy pt=t
expect err=EBUSY
pt-unhold pt=t
expect holds=1
pt-destroy pt=t
expect err=EBUSY
pt-unhold pt=t
expect holds=0

# a domain over the table holds it too, until it is destroyed
iommu-create name=io
domain-create iommu=io name=ext pt=t
pt-destroy pt=t
expect err=EBUSY
domain-destroy domain=ext
pt-destroy pt=t

# deferred reclaim
pt-create name=u fmt=vtd-ss
pt-map pt=u iova=0x40000000 pa=0x100000 size=8K
pt-info pt=u as=before
pt-unmap pt=u iova=0x40000000 size=2M
pt-info pt=u
expect detached=1
pt-sync pt=u wait=no
expect queued=1
pt-reclaim-wait pt=u
expect reclaim=0 pages=$before.pages-1
pt-reclaim-wait pt=u
expect reclaim=0

# invalidation brackets
pt-map pt=u iova=0x40000000 pa=0x100000 size=4K
pt-seq pt=u iova=0x40000000 as=s0
pt-invalidate-begin pt=u iova=0x40000000 size=4K
expect open=1
pt-seq pt=u iova=0x40000000 seq=$s0.seq
expect retry=yes
# the bracket covers the address's 1 GiB region, not other regions
pt-seq pt=u iova=0x80000000 as=s1
pt-invalidate-begin pt=u iova=0x40000000 size=2M
expect open=2
pt-invalidate-end pt=u iova=0x40000000 size=4K
expect open=1
pt-seq pt=u iova=0x40000000 seq=$s0.seq
expect retry=yes
pt-invalidate-end pt=u iova=0x40000000 size=2M
expect open=0
pt-seq pt=u iova=0x80000000 seq=$s1.seq
expect retry=no
# after the bracket the sequence has moved: an old one still says retry
pt-seq pt=u iova=0x40000000 seq=$s0.seq
expect retry=yes
pt-seq pt=u iova=0x40000000 as=s2
pt-seq pt=u iova=0x40000000 seq=$s2.seq
expect retry=no
pt-invalidate-begin pt=u iova=0x40000001 size=4K
expect err=EINVAL
pt-invalidate-begin pt=u iova=0x40000000 size=0
expect err=EINVAL
pt-invalidate-begin pt=u iova=0x1000000000000 size=4K
expect err=ERANGE
# a bracket left open is ended at the end of the run
pt-invalidate-begin pt=u iova=0 size=4K

# an unhold without a pt-hold is refused by the CLI (it would drop a
# domain's hold): a usage error, the run stops
pt-unhold pt=u

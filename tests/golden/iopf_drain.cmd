# Drain (seed 002) on detach, replace and device removal: requests bottom up
# (the queued request, the partial group), responses top down (a held group
# answered Invalid; its late answer dropped), and the fault queue: whole
# groups as records under one cookie, a short read keeps the group, answers
# by cookie, unknown and reused cookies refused, detach answering an unread
# group at once, close answering the rest.
log-level level=err
iommu-create name=io pasid-bits=8
dev-create iommu=io name=gpu rid=0x0300 pri=yes pasid=yes pasid-bits=8
dev-create iommu=io name=plain rid=0x0500
domain-create iommu=io name=h
domain-create iommu=io name=q
domain-create iommu=io name=s
iopf-create iommu=io name=pf mode=manual drain-timeout=nowait
iopf-enable iopf=pf dev=gpu
iopf-enable iopf=pf dev=plain
expect err=EINVAL
iopf-handler iopf=pf domain=h mode=hold
iopf-handler iopf=pf domain=s mode=success
fq-create iopf=pf name=fq
iopf-handler iopf=pf domain=q mode=fq fq=fq
attach dev=gpu domain=h pasid=1
attach dev=gpu domain=q pasid=2

# detach PASID 1 with a held group, a partial one and one still queued
iopf-report iopf=pf dev=gpu pasid=1 prgi=1
iopf-process iopf=pf
iopf-report iopf=pf dev=gpu pasid=1 prgi=2 last=no
iopf-process iopf=pf
iopf-report iopf=pf dev=gpu pasid=1 prgi=3
detach dev=gpu pasid=1
iopf-responses iopf=pf dev=gpu
expect count=2
iopf-stats iopf=pf
expect drains=1 drained=1 discarded=1 depth=0
iopf-answer iopf=pf domain=h
expect delivered=no
iopf-stats iopf=pf
expect dropped=1
# no domain now: Invalid at once (the partial goes too)
iopf-report iopf=pf dev=gpu pasid=1 prgi=4 last=no
iopf-report iopf=pf dev=gpu pasid=1 prgi=4
iopf-process iopf=pf
iopf-responses iopf=pf dev=gpu
expect count=1
iopf-stats iopf=pf
expect unhandled=1 discarded=2

# the fault queue
fq-poll fq=fq
expect readable=no
iopf-report iopf=pf dev=gpu pasid=2 prgi=7 count=3 addr=0x10000 access=rw
iopf-report iopf=pf dev=gpu pasid=2 prgi=8 addr=0x20000
iopf-process iopf=pf
fq-poll fq=fq
expect readable=yes
fq-read fq=fq max=2
expect records=0
fq-read fq=fq max=3
expect records=3
fq-read fq=fq
expect records=1
fq-poll fq=fq
expect readable=no
fq-write fq=fq cookie=1 raw-code=15
expect err=EINVAL
fq-write fq=fq cookie=99
expect err=ENOENT
fq-write fq=fq cookie=1
fq-write fq=fq cookie=1
expect err=ENOENT
iopf-responses iopf=pf dev=gpu
expect count=1
# detach: the read-but-unanswered group 8 is answered Invalid (nowait);
# its late answer is accepted and dropped
detach dev=gpu pasid=2
fq-write fq=fq cookie=2 code=success
iopf-responses iopf=pf dev=gpu
expect count=1
# an unread group goes at once on replace
attach dev=gpu domain=q pasid=2
iopf-report iopf=pf dev=gpu pasid=2 prgi=9
iopf-process iopf=pf
replace dev=gpu domain=s pasid=2
fq-poll fq=fq
expect readable=no
iopf-responses iopf=pf dev=gpu
expect count=1
# close answers everything unread or unanswered, and later groups too
replace dev=gpu domain=q pasid=2
iopf-report iopf=pf dev=gpu pasid=2 prgi=10
iopf-report iopf=pf dev=gpu pasid=2 prgi=11
iopf-process iopf=pf
fq-read fq=fq max=1
fq-close fq=fq
expect answered=2
fq-read fq=fq
expect err=EBADF
iopf-report iopf=pf dev=gpu pasid=2 prgi=12
iopf-process iopf=pf
iopf-responses iopf=pf dev=gpu
expect count=3

# device removal: everything answered, then its requests are refused
attach dev=gpu domain=h pasid=3
iopf-report iopf=pf dev=gpu pasid=3 prgi=13
iopf-process iopf=pf
iopf-report iopf=pf dev=gpu pasid=3 prgi=14
iopf-handler-clear iopf=pf domain=h
expect err=EBUSY
iopf-disable iopf=pf dev=gpu
expect responses=2
iopf-report iopf=pf dev=gpu pasid=3 prgi=15
expect err=ENODEV
iopf-enable iopf=pf dev=gpu
iopf-report iopf=pf dev=gpu pasid=3 prgi=15
expect queued=1

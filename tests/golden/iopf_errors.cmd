# iopf argument errors: every one refused with nothing changed.
log-level level=err
iommu-create name=io pasid-bits=8
dev-create iommu=io name=gpu rid=0x0300 pri=yes pasid=yes pasid-bits=8
dev-create iommu=io name=old rid=0x0400 pri=yes
domain-create iommu=io name=d
domain-create iommu=io name=id type=identity
iopf-create iommu=io name=bad mode=inline workers=2
expect err=EINVAL
iopf-create iommu=io name=bad drain-timeout=60001
expect err=EINVAL
iopf-create iommu=io name=pf
iopf-process iopf=pf
expect err=EINVAL
iopf-enable iopf=pf dev=gpu
iopf-enable iopf=pf dev=gpu
expect err=EEXIST
iopf-enable iopf=pf dev=old
iopf-handler iopf=pf domain=id mode=success
expect err=EINVAL
iopf-handler iopf=pf domain=d mode=success
iopf-handler iopf=pf domain=d mode=hold
expect err=EBUSY
# a PRG index beyond 9 bits, a PASID beyond 20 bits or on a device without PASID
iopf-report iopf=pf dev=gpu prgi=512
expect err=EINVAL
iopf-report iopf=pf dev=gpu prgi=1 pasid=0x100000
expect err=EINVAL
iopf-report iopf=pf dev=old prgi=1 pasid=1
expect err=EINVAL
# execute needs a PASID; a write with no domain attached is answered Invalid
iopf-report iopf=pf dev=gpu prgi=1 access=x
expect err=EINVAL
iopf-report iopf=pf dev=gpu prgi=1 access=w
iopf-responses iopf=pf dev=gpu
expect count=1
iopf-respond iopf=pf dev=gpu prgi=1
expect err=ENOENT
iopf-drain iopf=pf dev=gpu pasid=0x100000
expect err=EINVAL
iopf-drain iopf=pf dev=gpu
expect answered=0
iopf-clear-overflow iopf=pf
expect was=no

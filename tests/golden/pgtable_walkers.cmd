# Hardware-style translation (permissions, accessed/dirty), the level lookup
# and invalidation sequence of seed 001, and dirty bitmaps.
pt-create name=x fmt=x86-64
pt-map pt=x iova=0 pa=0x100000 size=8K prot=r
pt-map pt=x iova=2M pa=4M size=2M prot=rwp
pt-translate pt=x iova=0x1234
expect pa=0x101234 size=4K prot=r
# read-only: a write faults; supervisor-only: a user access faults
pt-translate pt=x iova=0x1000 access=w
expect err=EACCES
pt-translate pt=x iova=3M access=w
expect err=EACCES
pt-translate pt=x iova=3M access=wp
expect pa=0x500000 size=2M prot=rwp
pt-translate pt=x iova=3G
expect err=ENOENT
# the walk shows A (bit 5) on the page read, A|D (0x60) on the one written,
# nothing on the one never accessed
pt-walk pt=x iova=0x1000
expect l0=0x0000000000101025
pt-walk pt=x iova=0
expect l0=0x0000000000100005
pt-walk pt=x iova=2M
expect l1=0x00000000004000e3
# dirty bitmap over 4 MiB in 4K bits: the whole 2 MiB page is dirty
pt-dirty pt=x iova=0 size=4M pgshift=21 clear=no
expect dirty=1 bitmap=0x2
pt-dirty pt=x iova=2M size=2M pgshift=21
expect dirty=1 bitmap=0x1
pt-sync pt=x
expect inval=0x200000-0x3fffff tables=no
pt-dirty pt=x iova=0 size=4M pgshift=21
expect dirty=0 bitmap=0x0
pt-walk pt=x iova=2M
expect l1=0x00000000004000a3
# seed 001: the level is a lock-free answer; the sequence says if an unmap
# of the same 1 GiB region intervened since it was read
pt-seq pt=x iova=2M as=before
pt-level pt=x iova=2M
expect level=2M
pt-seq pt=x iova=2M seq=$before.seq
expect retry=no
pt-map pt=x iova=8M pa=0 size=4K
pt-seq pt=x iova=2M seq=$before.seq
expect retry=no
pt-unmap pt=x iova=8M size=4K
pt-seq pt=x iova=2M seq=$before.seq
expect retry=yes
pt-seq pt=x iova=1G seq=$before.seq
expect retry=no
pt-sync pt=x
# VT-d second stage without SSADE has no dirty tracking; with it, D is bit 9
pt-create name=v fmt=vtd-ss
pt-dirty pt=v iova=0 size=2M
expect err=EOPNOTSUPP
pt-create name=vd fmt=vtd-ss dirty=yes
pt-map pt=vd iova=0 pa=0 size=16K prot=w
pt-translate pt=vd iova=0x2000 access=r
expect err=EACCES
pt-translate pt=vd iova=0x2000 access=w
pt-walk pt=vd iova=0x2000
expect l0=0x0000000000002302
pt-dirty pt=vd iova=0 size=16K
expect dirty=1 bitmap=0x4
# Arm with DBM: a write clears AP[2]; reading and clearing sets it again
pt-create name=a fmt=arm-lpae-s1 dirty=yes
pt-map pt=a iova=1G pa=1G size=1G prot=rw
pt-translate pt=a iova=0x40000008 access=w
pt-walk pt=a iova=1G
expect l2=0x0008000040000e41
pt-dirty pt=a iova=1G size=1G pgshift=30
expect dirty=1 bitmap=0x1
pt-walk pt=a iova=1G
expect l2=0x0008000040000ec1
pt-info pt=a

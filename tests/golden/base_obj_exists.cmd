# Names are unique per type.
iova-create name=s last=0xffffffff
iova-create name=s last=0xffffffff

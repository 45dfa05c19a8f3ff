# A failed command unsets the variable it was to set: a later use is an error.
iova-create name=s last=0xffffffff
iova-alloc space=s size=4K as=buf
iova-free space=s iova=$buf.iova
iova-alloc space=s size=0 as=buf
expect err=EINVAL
iova-free space=s iova=$buf.iova

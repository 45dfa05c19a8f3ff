# An object name that was never created.
iova-create name=s last=0xffffffff
iova-destroy space=nope

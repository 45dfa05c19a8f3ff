# Not a number.
iova-create name=s last=12Q

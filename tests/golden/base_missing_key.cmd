# A required argument missing.
iova-create name=s

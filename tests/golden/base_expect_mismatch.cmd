error name=EBUSY
expect code=22

error name=EBUSY colour=blue

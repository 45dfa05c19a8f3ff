# `expect` needs something to expect.
error name=EBUSY
expect

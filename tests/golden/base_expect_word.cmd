# `expect` knows ok, err=NAME and KEY=VALUE only.
error name=EBUSY
expect maybe
